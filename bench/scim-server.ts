/**
 * Runs the test SCIM server (scimmy over express, in memory) as its own process for the SCIM benchmark,
 * so that it does not share an event loop with the client being measured. Prints "URL TOKEN" on stdout
 * and serves until killed.
 */
import { startScimServer } from '../test/servers/scim-server.ts';

const token = 'bench-token';
const server = await startScimServer({ token });
console.log(`${server.url} ${token}`);
process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
