/**
 * Starts a throw-away OpenLDAP slapd and an in-memory SCIM 2.0 server (scimmy) on 127.0.0.1, creates the
 * LDAP organisational units the example writes to, prints the environment variables idplane.yaml reads as
 * `export` lines on stdout, and keeps both servers up until it gets SIGTERM or SIGINT.
 *
 *   node examples/ldap-and-scim/servers.ts > env.sh   (then: . ./env.sh)
 */
import { randomBytes } from 'node:crypto';
import { startScimServer } from '../../test/servers/scim-server.ts';
import { ADMIN_PASSWORD, startSlapd, SUFFIX } from '../../test/servers/slapd.ts';

const slapd = await startSlapd();
const admin = await slapd.client();
for (const ou of ['people', 'Engineering,ou=people', 'Sales,ou=people', 'Executive,ou=people', 'Finance,ou=people', 'People,ou=people', 'Support,ou=people', 'Marketing,ou=people', 'Legal,ou=people']) {
  await admin.add(`ou=${ou},${SUFFIX}`, { objectClass: ['organizationalUnit'], ou: ou.split(',')[0]! });
}
await admin.unbind();

const token = randomBytes(16).toString('hex');
const scim = await startScimServer({ token });
// An account that already exists in the app: idplane links it instead of creating a second one.
scim.seed({ userName: 'zoe.muller@example.com', name: { givenName: 'Zoe', familyName: 'Muller' }, active: true });

console.log(`export LDAP_URL='${slapd.url}'`);
console.log(`export LDAP_PASSWORD='${ADMIN_PASSWORD}'`);
console.log(`export SCIM_URL='${scim.url}'`);
console.log(`export SCIM_TOKEN='${token}'`);
console.log(`# servers ready (pid ${process.pid})`);

const stop = async () => {
  await scim.close();
  await slapd.stop();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
