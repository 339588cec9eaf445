/**
 * PostgreSQL state benchmark, for N users (default 100k): the time `idplane apply PLAN` takes to write the
 * first import (users, links, imported records, journal) into PostgreSQL, next to a raw COPY of the same
 * rows into bare tables in the same run; read() of that state; and a no-change `plan` on PostgreSQL next
 * to the embedded store. Then, in process, write() and read() of synthetic states of each --scale size
 * (a realistic profile of 12 string attributes and an HR record of 11 columns per user). Needs a
 * reachable server (IDPLANE_BENCH_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/test) and
 * psql. Timed steps run ROUNDS times, interleaved, and the median is reported. Results go to
 * bench/RESULTS.md.
 *
 *   node bench/postgres.ts [--users 100000] [--scale 100000,1000000] [--no-write]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Plan, UserRecord } from '../schemas/generated/plan.ts';
import { applyPlanToState } from '../reconciler/apply-plan.ts';
import { emptyState, type DirectoryState, type ImportedRecord, type StoredLink } from '../reconciler/model.ts';
import { packValues } from '../reconciler/records.ts';
import type { ChangeRecord } from '../state/types.ts';
import { PostgresStore } from '../state/postgres/store.ts';
import { loadPlan } from '../engine/plan-file.ts';
import { collectPlan } from '../engine/plan-stream.ts';
import { directoryChanges, type RunLog } from '../engine/runs/run-log.ts';
import { generateHrCsv } from './generate.ts';
import { writeResultsSection } from './results-file.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(REPO, 'cli/bin/idplane.js');
const URL_ = process.env.IDPLANE_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const { values } = parseArgs({ options: { users: { type: 'string', default: '100000' }, scale: { type: 'string', default: '100000,1000000' }, 'no-write': { type: 'boolean', default: false } } });
const N = Number(values.users);
const SCALES = values.scale.split(',').filter(Boolean).map(Number);
const ROUNDS = 5;

// A full collection before the heap is measured, so the figure is what the read state keeps alive.
setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function seconds(fn: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - started) / 1e9;
}

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

const HR_COLUMNS = ['employee_id', 'first_name', 'last_name', 'work_email', 'department', 'title', 'employment_type', 'status', 'start_date', 'manager_id', 'phone'];
const FIRST = ['Zoë', 'Lars', 'Priya', 'José', 'Wojciech', 'Fatima', 'Björn', 'Siobhán'];
const LAST = ['Müller', "O'Brien", 'Chen', 'Østergaard', 'Łukasiewicz', 'García-López', 'Nguyen', 'Okafor'];
const DEPARTMENTS = ['Engineering', 'Sales', 'Finance', 'People', 'Legal', 'Support', 'Marketing'];

const out = join(REPO, 'bench/out/postgres');
const schema = `idplane_bench_${process.pid}`;
const env = { IDPLANE_STATE_URL: URL_ };
const pgDir = join(out, 'pg');
const embeddedDir = join(out, 'embedded');
await prepare(pgDir, `state:\n  backend: postgres\n  url: \${env:IDPLANE_STATE_URL}\n  schema: ${schema}`);
await prepare(embeddedDir, 'state:\n  backend: embedded');

try {
  time('plan --out (pg)', process.execPath, [BIN, '-C', pgDir, 'plan', '--out', join(pgDir, 'plan.idplan'), '--format', 'json'], env);
  const apply = time('apply plan (pg)', process.execPath, [BIN, '-C', pgDir, 'apply', join(pgDir, 'plan.idplan'), '--format', 'json'], env);

  const { write, copy, read } = await writeAlone();

  const planPg = time('no-change plan (pg)', process.execPath, [BIN, '-C', pgDir, 'plan', '--detailed-exitcode', '--format', 'json'], env);
  time('apply (embedded)', process.execPath, [BIN, '-C', embeddedDir, 'apply', '--auto-approve', '--format', 'json']);
  const planEmbedded = time('no-change plan (embedded)', process.execPath, [BIN, '-C', embeddedDir, 'plan', '--detailed-exitcode', '--format', 'json']);

  const scale: string[] = [];
  for (const n of SCALES) scale.push(await atScale(n));

  const version = psql('SHOW server_version').trim();
  const body = `Generated by \`node bench/postgres.ts\` on ${new Date().toISOString().slice(0, 10)}.
Machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}; PostgreSQL ${version} on the same machine.

N = ${N.toLocaleString('en')} users from bench/generate.ts with the quickstart config. "state write" is the one transaction
that stores the first import: ${N.toLocaleString('en')} users, their links and imported records (packed values), and the
journal entries of each user and link (PostgresStore.write, timed in process, into a fresh schema). "raw COPY" is
\`psql \\\\copy\` of exactly the rows that write stored (users, links, imported, app_columns, journal; positions included)
into bare tables without keys, indexes or triggers. Both run ${ROUNDS} times, interleaved; medians. "state read" is
PostgresStore.read() of that state by a fresh store, in process. "apply, whole CLI" adds process start, reading the
sources and the state, computing the plan again and comparing it, line by line, with the
${Math.round((await readFile(join(pgDir, 'plan.idplan'))).length / 2 ** 20)} MiB plan file (Zstandard-compressed) it verifies, the lock and the run record.

| what | seconds |
| --- | ---: |
| state write into PostgreSQL | ${write.toFixed(2)} |
| raw COPY of the same rows | ${copy.toFixed(2)} |
| ratio state write / COPY | ${(write / copy).toFixed(2)}× |
| state read from PostgreSQL | ${read.toFixed(2)} |
| apply, whole CLI | ${apply.toFixed(2)} |
| no-change plan, PostgreSQL state | ${planPg.toFixed(2)} |
| no-change plan, embedded state | ${planEmbedded.toFixed(2)} |

In process, synthetic states (bench/postgres.ts \`synthetic\`: 12 string profile attributes, one HR record of 11 columns
and one link per user, one journal entry per user). "first write" goes into a fresh schema; "read" is a fresh store's
read(); "no-change write" and "1% changed write" follow that read (the changed-rows path). Medians of ${ROUNDS}; "heap" is
V8's used heap after the read and a full collection: the state read, the store's snapshot, and the benchmark itself.

| users | first write | read | heap | no-change write | 1% changed write |
| ---: | ---: | ---: | ---: | ---: | ---: |
${scale.join('\n')}
`;
  console.log(body);
  if (!values['no-write']) await writeResultsSection('State on PostgreSQL', body);
} finally {
  psql(`DROP SCHEMA IF EXISTS ${schema} CASCADE; ${Array.from({ length: ROUNDS }, (_, r) => `DROP SCHEMA IF EXISTS ${schema}_w${r} CASCADE;`).join(' ')}
    DROP SCHEMA IF EXISTS bare_${schema} CASCADE; DROP SCHEMA IF EXISTS ${schema}_s CASCADE;`);
}

/**
 * The state write alone, in process: the next state and journal entries of the saved plan into fresh
 * schemas, the raw COPY of exactly the rows it stored into bare tables, and a read of it; interleaved.
 */
async function writeAlone(): Promise<{ write: number; copy: number; read: number }> {
  const plan: Plan = await collectPlan(await loadPlan(join(pgDir, 'plan.idplan')));
  const next = applyPlanToState(emptyState(), plan, 'bench-lineage');
  const dump = (table: string) => join(out, `${table}.csv`);
  const tables = [
    ['users', 'id text, ord bigint, login text, status text, profile jsonb, profile_source text, roles text[]'],
    ['links', 'app text, key text, user_id text, ord bigint'],
    ['imported', 'app text, key text, disabled boolean, vals text'],
    ['app_columns', 'app text, columns text[]'],
    ['changes', 'run_id text, seq integer, at text, kind text, action text, user_id text, login text, app text, key text, attributes jsonb, outcome text, message text'],
  ] as const;
  const names = (columns: string) => columns.split(', ').map((c) => c.split(' ')[0]).join(', ');
  const writes: number[] = [];
  const copies: number[] = [];
  const reads: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    let seq = 0;
    const log = { run: { id: 'bench-run' }, nextSeq: () => seq++ } as unknown as RunLog;
    const target = `${schema}_w${round}`;
    const store = new PostgresStore({ url: URL_, schema: target });
    await store.read(); // runs the migrations, so they are not timed
    writes.push(await seconds(() => store.write(next, { lineage: null, serial: 0 }, directoryChanges(plan, log))));
    await store.close();
    process.stderr.write(`state write alone (pg): ${writes.at(-1)!.toFixed(2)} s\n`);
    if (round === 0) for (const [table, columns] of tables) psql(`\\copy (SELECT ${names(columns)} FROM ${target}.${table}) TO '${dump(table)}' WITH CSV`);
    psql(`DROP SCHEMA IF EXISTS bare_${schema} CASCADE; CREATE SCHEMA bare_${schema}; ${tables.map(([table, columns]) => `CREATE TABLE bare_${schema}.${table} (${columns});`).join(' ')}`);
    copies.push(time('raw COPY of the same rows', 'psql', [URL_, '-v', 'ON_ERROR_STOP=1', '-q',
      ...tables.flatMap(([table]) => ['-c', `\\copy bare_${schema}.${table} FROM '${dump(table)}' WITH CSV`])]));
    const reader = new PostgresStore({ url: URL_, schema: target });
    reads.push(await seconds(() => reader.read()));
    await reader.close();
    process.stderr.write(`state read alone (pg): ${reads.at(-1)!.toFixed(2)} s\n`);
  }
  return { write: median(writes), copy: median(copies), read: median(reads) };
}

/** A first import of n users as apply stores it: users with 12 profile attributes, their links and HR records. */
function synthetic(n: number): DirectoryState {
  const users: UserRecord[] = [];
  const links: StoredLink[] = [];
  const records = new Map<string, ImportedRecord>();
  for (let i = 0; i < n; i++) {
    const key = String(100_000 + i);
    const [first, last] = [FIRST[i % FIRST.length]!, LAST[(i * 7) % LAST.length]!];
    const email = `${first.toLowerCase()}.${last.toLowerCase().replace(/[^a-z]/g, '')}${i}@example.com`;
    const hr: Record<string, string> = {
      employee_id: key, first_name: first, last_name: last, work_email: email, department: DEPARTMENTS[i % DEPARTMENTS.length]!,
      title: `Senior Engineer ${i % 13}`, employment_type: i % 9 === 0 ? 'Contractor' : 'Full-time', status: i % 50 === 0 ? 'Terminated' : 'Active',
      start_date: `20${String(10 + (i % 14))}-0${1 + (i % 9)}-1${i % 10}`, manager_id: String(100_000 + Math.floor(i / 10)), phone: `+1 555 ${String(i).padStart(7, '0')}`,
    };
    const id = `u-${i.toString(36).padStart(6, '0')}-${key}`;
    users.push({
      id, login: email, status: hr.status === 'Terminated' ? 'DEPROVISIONED' : 'ACTIVE', profileSource: 'hr', roles: [],
      profile: {
        login: email, email, employeeNumber: key, firstName: first, lastName: last, displayName: `${first} ${last}`, department: hr.department!,
        title: hr.title!, userType: hr.employment_type === 'Contractor' ? 'contractor' : 'employee', managerId: hr.manager_id!, mobilePhone: hr.phone!, startDate: hr.start_date!,
      },
    });
    links.push({ app: 'hr', key, userId: id });
    records.set(key, { values: packValues(HR_COLUMNS, hr), disabled: hr.status === 'Terminated' });
  }
  return { ...emptyState(), lineage: 'bench-lineage', serial: 1, users, links, imported: new Map([['hr', { columns: HR_COLUMNS, records }]]), pipeline: 'sha256:bench' };
}

function* journal(state: DirectoryState): Generator<ChangeRecord> {
  let seq = 0;
  for (const u of state.users) {
    yield { runId: 'bench-run', seq: seq++, at: '2026-01-01T00:00:00.000Z', kind: 'user', action: 'create', userId: u.id, login: u.login, app: null, key: null, attributes: { department: { from: null, to: String(u.profile.department) } }, outcome: 'done', message: null };
  }
}

/** One row of the in-process table: n users written, read, and written again with no and with 1% changes. */
async function atScale(n: number): Promise<string> {
  const target = `${schema}_s`;
  const writes: number[] = [];
  const reads: number[] = [];
  const heaps: number[] = [];
  const unchanged: number[] = [];
  const changed: number[] = [];
  // Each step in a function of its own, so that nothing of one (the state built, a store's snapshot) is alive during the next.
  const firstWrite = async (): Promise<number> => {
    const state = synthetic(n);
    const writer = new PostgresStore({ url: URL_, schema: target });
    await writer.read();
    const time = await seconds(() => writer.write(state, { lineage: null, serial: 0 }, journal(state)));
    await writer.close();
    return time;
  };
  const readAndWrite = async (): Promise<void> => {
    const store = new PostgresStore({ url: URL_, schema: target });
    let read: DirectoryState | null = null;
    reads.push(await seconds(async () => (read = await store.read())));
    collect();
    heaps.push(process.memoryUsage().heapUsed / 2 ** 20);
    const current: DirectoryState = read!;
    unchanged.push(await seconds(() => store.write({ ...current, serial: 2 }, { lineage: current.lineage, serial: 1, digest: current.digest })));
    const records = new Map(current.imported.get('hr')!.records);
    let i = 0;
    for (const [key, record] of records) if (i++ % 100 === 0) records.set(key, { ...record, disabled: !record.disabled });
    const next: DirectoryState = {
      ...current, serial: 3, users: current.users.map((u, j) => (j % 100 === 0 ? { ...u, status: 'SUSPENDED' as const } : u)),
      imported: new Map([['hr', { columns: HR_COLUMNS, records }]]),
    };
    changed.push(await seconds(() => store.write(next, { lineage: current.lineage, serial: 2 })));
    await store.close();
  };
  for (let round = 0; round < ROUNDS; round++) {
    psql(`DROP SCHEMA IF EXISTS ${target} CASCADE`);
    writes.push(await firstWrite());
    await readAndWrite();
    process.stderr.write(`${n} users in process: write ${writes.at(-1)!.toFixed(2)} s, read ${reads.at(-1)!.toFixed(2)} s, no-change write ${unchanged.at(-1)!.toFixed(2)} s, 1% write ${changed.at(-1)!.toFixed(2)} s\n`);
  }
  psql(`DROP SCHEMA IF EXISTS ${target} CASCADE`);
  const f = (xs: number[]) => `${median(xs).toFixed(2)} s`;
  return `| ${n.toLocaleString('en')} | ${f(writes)} | ${f(reads)} | ${median(heaps).toFixed(0)} MiB | ${f(unchanged)} | ${f(changed)} |`;
}
