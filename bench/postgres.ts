/**
 * PostgreSQL state benchmark, for N users (default 100k): the time `idplane apply PLAN` takes to write the
 * first import (users, links, imported records, journal) into PostgreSQL, next to a raw COPY of the same
 * rows into bare tables in the same run; and a no-change `plan` on PostgreSQL next to the embedded store.
 * Needs a reachable server (IDPLANE_BENCH_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/test)
 * and psql. Results go to bench/RESULTS.md.
 *
 *   npx tsx bench/postgres.ts [--users 100000] [--no-write]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Plan } from '../schemas/generated/plan.ts';
import { applyPlanToState } from '../reconciler/apply-plan.ts';
import { emptyState } from '../reconciler/model.ts';
import { PostgresStore } from '../state/postgres/store.ts';
import { directoryChanges, type RunLog } from '../cli/run-log.ts';
import { generateHrCsv } from './generate.ts';
import { writeResultsSection } from './results-file.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(REPO, 'cli/bin/idplane.js');
const URL_ = process.env.IDPLANE_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const { values } = parseArgs({ options: { users: { type: 'string', default: '100000' }, 'no-write': { type: 'boolean', default: false } } });
const N = Number(values.users);

function time(label: string, command: string, args: string[], env: Record<string, string> = {}): number {
  const started = process.hrtime.bigint();
  const r = spawnSync(command, args, { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 1 << 30 });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (r.status !== 0) throw new Error(`${label} failed (${r.status}): ${r.stderr.slice(-2000)}`);
  process.stderr.write(`${label}: ${seconds.toFixed(2)} s\n`);
  return seconds;
}

const psql = (sql: string) => execFileSync('psql', [URL_, '-v', 'ON_ERROR_STOP=1', '-qAtc', sql], { encoding: 'utf8', env: { ...process.env, PGOPTIONS: '-c client_min_messages=warning' } });

async function prepare(dir: string, state: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(join(dir, 'data'), { recursive: true });
  await generateHrCsv({ users: N, out: createWriteStream(join(dir, 'data/hr.csv')) });
  const config = (await readFile(join(REPO, 'examples/quickstart/idplane.yaml'), 'utf8')).replace(/^state:\n {2}backend: embedded.*$/m, state);
  await writeFile(join(dir, 'idplane.yaml'), config);
}

const out = join(REPO, 'bench/out/postgres');
const schema = `idplane_bench_${process.pid}`;
const env = { IDPLANE_STATE_URL: URL_ };
const pgDir = join(out, 'pg');
const embeddedDir = join(out, 'embedded');
await prepare(pgDir, `state:\n  backend: postgres\n  url: \${env:IDPLANE_STATE_URL}\n  schema: ${schema}`);
await prepare(embeddedDir, 'state:\n  backend: embedded');

try {
  time('plan --out (pg)', process.execPath, [BIN, '-C', pgDir, 'plan', '--out', join(pgDir, 'plan.json'), '--format', 'json'], env);
  const apply = time('apply plan (pg)', process.execPath, [BIN, '-C', pgDir, 'apply', join(pgDir, 'plan.json'), '--format', 'json'], env);

  // The state write alone, in process: the same next state and journal entries into a fresh schema.
  const plan = JSON.parse(await readFile(join(pgDir, 'plan.json'), 'utf8')) as Plan;
  const next = applyPlanToState(emptyState(), plan, 'bench-lineage');
  let seq = 0;
  const log = { run: { id: 'bench-run' }, nextSeq: () => seq++ } as unknown as RunLog;
  const changes = directoryChanges(plan, log);
  const store = new PostgresStore({ url: URL_, schema: `${schema}_w` });
  await store.read(); // runs the migrations, so they are not timed
  const started = process.hrtime.bigint();
  await store.write(next, { lineage: null, serial: 0 }, changes);
  const write = Number(process.hrtime.bigint() - started) / 1e9;
  await store.close();
  process.stderr.write(`state write alone (pg): ${write.toFixed(2)} s\n`);

  // The same rows, as COPY would load them into bare tables: users, links, imported records.
  const dump = (table: string) => join(out, `${table}.csv`);
  for (const [table, query] of [
    ['users', `SELECT id, login, status, profile, profile_source, roles FROM ${schema}.users`],
    ['links', `SELECT app, key, user_id FROM ${schema}.links`],
    ['imported', `SELECT app, key, attributes, disabled FROM ${schema}.imported`],
    ['changes', `SELECT run_id, seq, at, kind, action, user_id, login, app, key, attributes, outcome, message FROM ${schema}_w.changes`],
  ] as const) {
    psql(`\\copy (${query}) TO '${dump(table)}' WITH CSV`);
  }
  psql(`DROP SCHEMA IF EXISTS bare_${schema} CASCADE; CREATE SCHEMA bare_${schema};
    CREATE TABLE bare_${schema}.users (id text, login text, status text, profile jsonb, profile_source text, roles text[]);
    CREATE TABLE bare_${schema}.links (app text, key text, user_id text);
    CREATE TABLE bare_${schema}.imported (app text, key text, attributes jsonb, disabled boolean);
    CREATE TABLE bare_${schema}.changes (run_id text, seq bigint, at text, kind text, action text, user_id text, login text, app text, key text, attributes jsonb, outcome text, message text);`);
  const copy = time('raw COPY of the same rows', 'psql', [URL_, '-v', 'ON_ERROR_STOP=1', '-q',
    ...['users', 'links', 'imported', 'changes'].flatMap((t) => ['-c', `\\copy bare_${schema}.${t} FROM '${dump(t)}' WITH CSV`])]);

  const planPg = time('no-change plan (pg)', process.execPath, [BIN, '-C', pgDir, 'plan', '--detailed-exitcode', '--format', 'json'], env);
  time('apply (embedded)', process.execPath, [BIN, '-C', embeddedDir, 'apply', '--auto-approve', '--format', 'json']);
  const planEmbedded = time('no-change plan (embedded)', process.execPath, [BIN, '-C', embeddedDir, 'plan', '--detailed-exitcode', '--format', 'json']);

  const version = psql('SHOW server_version').trim();
  const body = `Generated by \`npx tsx bench/postgres.ts\` on ${new Date().toISOString().slice(0, 10)}.
Machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}; PostgreSQL ${version} on the same machine.

N = ${N.toLocaleString('en')} users from bench/generate.ts with the quickstart config. "state write" is the one transaction
that stores the first import: ${N.toLocaleString('en')} users, their links and imported records, and one journal entry per user
(PostgresStore.write, timed in process). "raw COPY" is \`psql \\\\copy\` of exactly those rows (users, links, imported,
journal) into bare tables without keys or indexes, in the same run. "apply, whole CLI" adds process start, loading and
checking the ${Math.round((await readFile(join(pgDir, 'plan.json'))).length / 2 ** 20)} MiB plan file, the lock and the run record.

| what | seconds |
| --- | ---: |
| state write into PostgreSQL | ${write.toFixed(2)} |
| raw COPY of the same rows | ${copy.toFixed(2)} |
| ratio state write / COPY | ${(write / copy).toFixed(2)}× |
| apply, whole CLI | ${apply.toFixed(2)} |
| no-change plan, PostgreSQL state | ${planPg.toFixed(2)} |
| no-change plan, embedded state | ${planEmbedded.toFixed(2)} |
`;
  console.log(body);
  if (!values['no-write']) await writeResultsSection('State on PostgreSQL', body);
} finally {
  psql(`DROP SCHEMA IF EXISTS ${schema} CASCADE; DROP SCHEMA IF EXISTS ${schema}_w CASCADE; DROP SCHEMA IF EXISTS bare_${schema} CASCADE;`);
}
