/**
 * Big inputs the integration tests share, made once: bench/generate.ts's deterministic HR export of N
 * rows is written to a cache folder (node_modules/.cache/idplane-test, which `npm ci` starts afresh)
 * under a name that holds N, the seed and a digest of the generator's source, so a changed generator
 * never serves an old file; a test copies it into its own project. A million rows take seconds to
 * generate and a copy takes a fraction of that. Written to a temporary name and renamed, so two test
 * files asking at once never read half a file.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { copyFile, mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DEFAULT_SEED, generateHrCsv } from '../bench/generate.ts';
import { REPO } from './cli-helpers.ts';

const CACHE = join(REPO, 'node_modules/.cache/idplane-test');

/** Copies the HR export of `users` rows (seed 42) to `target`, generating it into the cache first if needed. */
export async function copyHrExport(users: number, target: string): Promise<void> {
  await mkdir(dirname(target), { recursive: true });
  await copyFile(await cachedHrExport(users), target);
}

async function cachedHrExport(users: number): Promise<string> {
  const generator = createHash('sha256').update(await readFile(join(REPO, 'bench/generate.ts'))).digest('hex').slice(0, 12);
  const file = join(CACHE, `hr-${users}-seed${DEFAULT_SEED}-${generator}.csv`);
  if (await stat(file).then(() => true, () => false)) return file;
  await mkdir(CACHE, { recursive: true });
  const temp = `${file}.${process.pid}.${randomUUID()}.tmp`;
  try {
    const out = createWriteStream(temp);
    await generateHrCsv({ users, out });
    await rename(temp, file);
  } finally {
    await rm(temp, { force: true });
  }
  return file;
}
