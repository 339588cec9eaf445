/**
 * Vitest's global setup: builds the CLI into dist/ once before any test runs (and again before each
 * rerun in watch mode), so the tests that spawn cli/bin/idplane.js never run a stale build. A build
 * that fails stops the run with esbuild's errors, as `npm run build` would print them.
 */
import type { TestProject } from 'vitest/node';
import { buildCli } from '../cli/build/build.ts';

async function build(): Promise<void> {
  try {
    await buildCli();
  } catch (error) {
    throw new Error(`building the CLI for the tests failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

export default async function setup(project: TestProject): Promise<void> {
  await build();
  project.onTestsRerun(build);
}
