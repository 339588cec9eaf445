#!/usr/bin/env node
// Launcher: runs the TypeScript sources through tsx's loader, then the CLI.
import { register } from 'tsx/esm/api';

// A closed pipe (`idplane state list | head`) ends the output quietly instead of crashing.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});
register();
const { main } = await import('../main.ts');
process.exitCode = await main(process.argv.slice(2));
