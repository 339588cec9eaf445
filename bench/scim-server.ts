/**
 * Runs the test SCIM server (scimmy over express, in memory) as its own process for the SCIM benchmark,
 * so that it does not share an event loop with the client being measured. Prints "URL TOKEN" on stdout
 * and serves until killed.
 */
import { startScimServer } from '../test/servers/scim-server.ts';

const token = 'bench-token';
const server = await startScimServer({ token });
// FAULTS="429:0.1:1,500:0.1": answer that share of POSTs with that status (and Retry-After seconds for a 429).
for (const [i, spec] of (process.env.FAULTS ?? '').split(',').filter(Boolean).entries()) {
  const [status, share, retryAfter] = spec.split(':');
  // Rules are tried in order, so each later share is of the POSTs the earlier rules let through.
  const before = (process.env.FAULTS ?? '').split(',').slice(0, i).reduce((left, s) => left * (1 - Number(s.split(':')[1])), 1);
  server.inject({
    method: 'POST', times: Number.MAX_SAFE_INTEGER, chance: Number(share) / before, seed: i + 1,
    fault: { status: Number(status), ...(retryAfter === undefined ? {} : { retryAfter }) },
  });
}
console.log(`${server.url} ${token}`);
process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
