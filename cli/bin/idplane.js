#!/usr/bin/env node
// Launcher: runs the compiled CLI in dist/, which `npm ci` builds (its `prepare` script) and
// `npm run build` rebuilds after the sources change. Without a build it says how to make one.
import { existsSync } from 'node:fs';
import { fileURLToPath, URL } from 'node:url';

// A closed pipe (`idplane state list | head`) ends the output quietly instead of crashing.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

const entry = new URL('../../dist/main.js', import.meta.url);
const repo = fileURLToPath(new URL('../..', import.meta.url));

/** Prints a setup problem in the format asked for (as the CLI prints its errors) and exits 1. */
function fail(code, message) {
  const args = process.argv.slice(2);
  const json = args.some((a, i) => a === '--format=json' || (a === '--format' && args[i + 1] === 'json'));
  process.stderr.write(json ? `${JSON.stringify({ error: { code, message } })}\n` : `Error: ${message}\n`);
  process.exit(1);
}

if (!existsSync(entry)) {
  fail('NOT_BUILT', `idplane is not built: run \`npm run build\` in ${repo} (npm ci builds it too)`);
}
// Stack traces name the TypeScript sources (dist/ has source maps); mapping costs time, so only on demand.
if (process.env.IDPLANE_DEBUG) process.setSourceMapsEnabled(true);
let main;
try {
  ({ main } = await import(entry.href));
} catch (error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND') throw error;
  fail('NOT_INSTALLED', `idplane cannot load its build: ${error.message}; run \`npm ci\` in ${repo}`);
}
process.exitCode = await main(process.argv.slice(2));
