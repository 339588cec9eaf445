/**
 * SQLite embedded store benchmark, for N users (default 100k) from bench/generate.ts with the quickstart
 * config: `plan --out` by the CLI, then in process, each ROUNDS times interleaved (medians):
 *  - the first apply's state write (EmbeddedStore.write of the saved plan's next state and its journal
 *    entries, into a fresh folder) next to a raw SQLite insert of exactly the rows that write stored
 *    (users, links, imported, app_columns, changes; read back from it first) into bare tables without
 *    keys, indexes or triggers, with the same pragmas (WAL, synchronous FULL), in one transaction;
 *  - read() of that state by a fresh store;
 *  - a no-change write after that read (the user rows it wrote, counted by a trigger of the benchmark's
 *    own: must be 0) and a write with 1% of users and imported records changed;
 *  - the same steps on the embedded store this one replaced (state.ndjson, rewritten whole by every
 *    write), taken from git (`--before REF`, default the last commit that had it), for before and after.
 * Then the whole CLI on the new store: `apply` of the saved plan and a no-change `plan`. Results go to
 * bench/RESULTS.md.
 *
 *   node bench/sqlite.ts [--users 100000] [--rounds 5] [--before REF] [--no-write]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { Plan } from '../schemas/generated/plan.ts';
import { applyPlanToState } from '../reconciler/apply-plan.ts';
import { emptyState, type DirectoryState } from '../reconciler/model.ts';
import type { StateStore } from '../state/types.ts';
import { PAGE_SIZE } from '../state/embedded/schema.ts';
import { EmbeddedStore } from '../state/embedded/store.ts';
import { loadPlan } from '../engine/plan-file.ts';
import { collectPlan } from '../engine/plan-stream.ts';
import { directoryChanges, type RunLog } from '../engine/runs/run-log.ts';
import { generateHrCsv } from './generate.ts';
import { writeResultsSection } from './results-file.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(REPO, 'cli/bin/idplane.js');
const OUT = join(REPO, 'bench/out/sqlite');
const { values } = parseArgs({ options: { users: { type: 'string', default: '100000' }, rounds: { type: 'string', default: '5' }, before: { type: 'string' }, 'no-write': { type: 'boolean', default: false } } });
const N = Number(values.users);
const ROUNDS = Number(values.rounds);

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const git = (...args: string[]) => execFileSync('git', args, { cwd: REPO, encoding: 'utf8' }).trim();

async function seconds(fn: () => Promise<unknown> | unknown): Promise<number> {
  const started = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - started) / 1e9;
}

function cli(label: string, args: string[]): number {
  const started = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [BIN, '-C', OUT, ...args], { encoding: 'utf8', maxBuffer: 1 << 30, env: { ...process.env, NO_COLOR: '1' } });
  const s = Number(process.hrtime.bigint() - started) / 1e9;
  if (r.status !== 0 && r.status !== 2) throw new Error(`${label} failed (${r.status}): ${r.stderr.slice(-2000)}`);
  process.stderr.write(`${label}: ${s.toFixed(2)} s\n`);
  return s;
}

/** The store this one replaced, as git has it: its files beside links to today's reconciler and schemas. */
async function beforeStore(): Promise<((dir: string) => StateStore) | null> {
  const ref = values.before ?? (() => {
    const removed = git('log', '-1', '--diff-filter=D', '--format=%H', '--', 'state/embedded/codec.ts');
    return removed ? `${removed}^` : '';
  })();
  if (!ref) return null;
  const root = join(OUT, 'before');
  await rm(root, { recursive: true, force: true });
  for (const file of ['state/embedded/store.ts', 'state/embedded/codec.ts', 'state/embedded/history.ts', 'state/chunks.ts', 'state/crash-point.ts', 'state/lock-wait.ts', 'state/types.ts']) {
    await mkdir(dirname(join(root, file)), { recursive: true });
    await writeFile(join(root, file), git('show', `${ref}:${file}`) + '\n');
  }
  for (const folder of ['reconciler', 'schemas']) await symlink(join(REPO, folder), join(root, folder));
  const { EmbeddedStore: Before } = await import(pathToFileURL(join(root, 'state/embedded/store.ts')).href) as { EmbeddedStore: new (options: { dir: string }) => StateStore };
  return (dir) => new Before({ dir });
}

/** Every stored row of the state tables, as the raw insert takes them. */
function dump(file: string): Map<string, unknown[][]> {
  const db = new DatabaseSync(file, { readOnly: true });
  const tables = new Map<string, unknown[][]>();
  for (const table of ['users', 'links', 'imported', 'app_columns', 'changes']) {
    const statement = db.prepare(`SELECT * FROM ${table}`);
    statement.setReturnArrays(true);
    tables.set(table, statement.all() as unknown as unknown[][]);
  }
  db.close();
  return tables;
}

/** Inserts `rows` into bare tables of a fresh database, with the store's pragmas, in one transaction. */
function rawInsert(file: string, rows: Map<string, unknown[][]>): void {
  const db = new DatabaseSync(file);
  db.exec(`PRAGMA page_size = ${PAGE_SIZE}; PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA cache_size = -65536`);
  for (const [table, list] of rows) db.exec(`CREATE TABLE ${table} (${list[0]!.map((_, i) => `c${i}`).join(', ')})`);
  db.exec('BEGIN');
  for (const [table, list] of rows) {
    const insert = db.prepare(`INSERT INTO ${table} VALUES (${list[0]!.map(() => '?').join(', ')})`);
    for (const row of list) insert.run(...(row as (string | number | null)[]));
  }
  db.exec('COMMIT');
  db.close();
}

/** How many user rows `during` wrote, counted by triggers the benchmark adds (on the SQLite store). */
async function userRowsWritten(file: string, during: () => Promise<unknown>): Promise<number> {
  const db = new DatabaseSync(file, { timeout: 10_000 });
  db.exec(`CREATE TABLE bench_probe (n INTEGER);
    CREATE TRIGGER bench_i AFTER INSERT ON users BEGIN INSERT INTO bench_probe VALUES (1); END;
    CREATE TRIGGER bench_u AFTER UPDATE ON users BEGIN INSERT INTO bench_probe VALUES (1); END;
    CREATE TRIGGER bench_d AFTER DELETE ON users BEGIN INSERT INTO bench_probe VALUES (1); END;`);
  await during();
  const alive = (db.prepare(`SELECT count(*) AS n FROM sqlite_schema WHERE name LIKE 'bench_%' AND type = 'trigger'`).get() as { n: number }).n === 3;
  const n = (db.prepare(alive ? 'SELECT count(*) AS n FROM bench_probe' : 'SELECT count(*) AS n FROM users').get() as { n: number }).n;
  db.exec('DROP TRIGGER IF EXISTS bench_i; DROP TRIGGER IF EXISTS bench_u; DROP TRIGGER IF EXISTS bench_d; DROP TABLE bench_probe');
  db.close();
  return Number(n);
}

/** `read` with 1% of users and imported records changed, as an apply of a 1% change builds it. */
function onePercent(read: DirectoryState): DirectoryState {
  const records = new Map(read.imported.get('hr')!.records);
  let i = 0;
  for (const [key, record] of records) if (i++ % 100 === 0) records.set(key, { ...record, disabled: !record.disabled });
  return {
    ...read, serial: read.serial + 2, users: read.users.map((u, j) => (j % 100 === 0 ? { ...u, status: u.status === 'ACTIVE' ? 'SUSPENDED' as const : 'ACTIVE' as const } : u)),
    imported: new Map([...read.imported, ['hr', { columns: read.imported.get('hr')!.columns, records }]]),
  };
}

interface Figures { write: number[]; raw: number[]; read: number[]; unchanged: number[]; unchangedRows: number[]; changed: number[]; bytes: number }

async function steps(kind: 'after' | 'before', open: (dir: string) => StateStore, next: DirectoryState, plan: Plan, figures: Figures, round: number): Promise<void> {
  const dir = join(OUT, `${kind}-${round}`);
  await rm(dir, { recursive: true, force: true });
  let seq = 0;
  const log = { run: { id: 'bench-run' }, nextSeq: () => seq++ } as unknown as RunLog;
  // The journal entries as the CLI makes them (its work, not the store's), ready as the raw rows are.
  const journal = [...directoryChanges(plan, log)];
  const writer = open(dir);
  figures.write.push(await seconds(() => writer.write(next, { lineage: null, serial: 0 }, journal)));
  await writer.close();
  const file = join(dir, kind === 'after' ? 'state.db' : 'state.ndjson');
  figures.bytes = (await stat(file)).size;
  if (kind === 'after') {
    const rows = dump(file);
    await rm(join(OUT, 'raw.db'), { force: true });
    figures.raw.push(await seconds(() => rawInsert(join(OUT, 'raw.db'), rows)));
  }
  const store = open(dir);
  let read: DirectoryState | null = null;
  figures.read.push(await seconds(async () => (read = await store.read())));
  const current: DirectoryState = read!;
  const same = () => store.write({ ...current, serial: 2 }, { lineage: current.lineage, serial: 1, digest: current.digest });
  if (kind === 'after') {
    let took = 0;
    figures.unchangedRows.push(await userRowsWritten(file, async () => (took = await seconds(same))));
    figures.unchanged.push(took);
  } else figures.unchanged.push(await seconds(same));
  figures.changed.push(await seconds(() => store.write(onePercent(current), { lineage: current.lineage, serial: 2 })));
  await store.close();
  process.stderr.write(`${kind} round ${round}: write ${figures.write.at(-1)!.toFixed(2)} s${kind === 'after' ? `, raw ${figures.raw.at(-1)!.toFixed(2)} s` : ''}, read ${figures.read.at(-1)!.toFixed(2)} s, no-change ${figures.unchanged.at(-1)!.toFixed(3)} s, 1% ${figures.changed.at(-1)!.toFixed(2)} s\n`);
}

await rm(OUT, { recursive: true, force: true });
await mkdir(join(OUT, 'data'), { recursive: true });
await generateHrCsv({ users: N, out: createWriteStream(join(OUT, 'data/hr.csv')) });
await writeFile(join(OUT, 'idplane.yaml'), await readFile(join(REPO, 'examples/quickstart/idplane.yaml'), 'utf8'));
cli('plan --out', ['plan', '--out', join(OUT, 'plan.idplan'), '--format', 'json']);
const plan: Plan = await collectPlan(await loadPlan(join(OUT, 'plan.idplan')));
const next = applyPlanToState(emptyState(), plan, 'bench-lineage');
const before = await beforeStore();
const after: Figures = { write: [], raw: [], read: [], unchanged: [], unchangedRows: [], changed: [], bytes: 0 };
const old: Figures = { write: [], raw: [], read: [], unchanged: [], unchangedRows: [], changed: [], bytes: 0 };
for (let round = 0; round < ROUNDS; round++) {
  await steps('after', (dir) => new EmbeddedStore({ dir }), next, plan, after, round);
  if (before) await steps('before', before, next, plan, old, round);
}
const apply = cli('apply plan (CLI)', ['apply', join(OUT, 'plan.idplan'), '--format', 'json']);
const noChange = cli('no-change plan (CLI)', ['plan', '--detailed-exitcode', '--format', 'json']);
const show = cli('state show (CLI)', ['state', 'show', next.users[Math.floor(N / 2)]!.login]);

const f = (xs: number[]) => `${median(xs).toFixed(2)} s`;
const was = (xs: number[]) => (before ? f(xs) : 'n/a');
const body = `Generated by \`node bench/sqlite.ts\` on ${new Date().toISOString().slice(0, 10)}.
Machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version} (SQLite ${(new DatabaseSync(':memory:').prepare('SELECT sqlite_version() AS v').get() as { v: string }).v}).

N = ${N.toLocaleString('en')} users from bench/generate.ts with the quickstart config, in process, ${ROUNDS} rounds interleaved, medians.
"state write" is EmbeddedStore.write of the first apply (${N.toLocaleString('en')} users, their links and imported
records, and the journal entries of every user and link change, made beforehand as the CLI makes them) into a fresh folder. "raw insert" puts exactly the
rows that write stored into bare SQLite tables (no keys, indexes or triggers), same pragmas, one transaction,
one prepared INSERT per row. "read" is a fresh store's read(); "no-change write" writes the state as read
(user rows written: ${median(after.unchangedRows)}); "1% write" changes 1% of users and of imported records.
"before" is the embedded store this one replaced (one state.ndjson rewritten whole per write, history.ndjson
appended), run from git in the same process on the same data.

| step | before (state.ndjson) | after (SQLite) |
| --- | ---: | ---: |
| first apply's state write | ${was(old.write)} | ${f(after.write)} |
| raw SQLite insert of the same rows | | ${f(after.raw)} |
| ratio state write / raw insert | | ${(median(after.write) / median(after.raw)).toFixed(2)}× |
| read | ${was(old.read)} | ${f(after.read)} |
| no-change write | ${was(old.unchanged)} | ${median(after.unchanged).toFixed(3)} s (${median(after.unchangedRows)} user rows) |
| 1% changed write | ${was(old.changed)} | ${f(after.changed)} |
| size on disk | ${before ? `${(old.bytes / 2 ** 20).toFixed(1)} MiB` : 'n/a'} (state only) | ${(after.bytes / 2 ** 20).toFixed(1)} MiB (state and history) |

The whole CLI on the SQLite store (process start included): \`apply\` of the saved plan ${apply.toFixed(2)} s (it plans
again to verify the plan file, then writes), a no-change \`plan\` ${noChange.toFixed(2)} s, \`state show LOGIN\` ${show.toFixed(2)} s.
`;
console.log(body);
if (!values['no-write']) await writeResultsSection('State on SQLite (embedded store)', body);
