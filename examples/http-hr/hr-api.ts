/**
 * Starts a throw-away HR API (test/servers/hr-server.ts: 250 generated employees, paged JSON, bearer
 * token) on 127.0.0.1, prints the environment variables idplane.yaml reads as `export` lines on stdout,
 * and keeps serving until it gets SIGTERM or SIGINT.
 *
 *   node examples/http-hr/hr-api.ts > env.sh   (then: . ./env.sh)
 *
 * Options: --count N (employees, default 250).
 */
import { randomBytes } from 'node:crypto';
import { startHrServer } from '../../test/servers/hr-server.ts';

const at = process.argv.indexOf('--count');
const count = at > 0 ? Number(process.argv[at + 1]) : 250;
const token = randomBytes(16).toString('hex');
const server = await startHrServer({ token, count });

console.log(`export HR_URL='${server.url}'`);
console.log(`export HR_TOKEN='${token}'`);
console.log(`# HR API ready with ${count} employees (pid ${process.pid})`);

const stop = async () => {
  await server.close();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
