/**
 * A copy of the quickstart example on each state backend: the embedded store, and a fresh PostgreSQL
 * schema (its config's state pointed there, the URL from ${env:IDPLANE_STATE_URL}), dropped afterwards.
 * `run` gets the copy's folder and the environment its commands need.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { copyExample } from './cli-helpers.ts';
import { describePostgres, dropSchema, freshSchema, POSTGRES_URL } from './postgres-helpers.ts';

export type BackendRun = (dir: string, env: Record<string, string>) => Promise<void>;

export function onEachBackend(subject: string, test: string, run: BackendRun): void {
  describe(`${subject}, on the embedded store`, () => {
    let project: { dir: string; cleanup: () => Promise<void> };
    beforeAll(async () => {
      project = await copyExample('quickstart');
    });
    afterAll(() => project.cleanup());
    it(test, () => run(project.dir, {}));
  });

  describePostgres(`${subject}, on PostgreSQL`, () => {
    let project: { dir: string; cleanup: () => Promise<void> };
    const schema = freshSchema();
    beforeAll(async () => {
      project = await copyExample('quickstart');
      const config = join(project.dir, 'idplane.yaml');
      await writeFile(config, (await readFile(config, 'utf8')).replace(/^state:\n {2}backend: embedded.*$/m, `state:\n  backend: postgres\n  url: \${env:IDPLANE_STATE_URL}\n  schema: ${schema}`));
    });
    afterAll(async () => {
      await project.cleanup();
      await dropSchema(schema);
    });
    it(test, () => run(project.dir, { IDPLANE_STATE_URL: POSTGRES_URL }));
  });
}
