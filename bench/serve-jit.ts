/**
 * JIT latency of `idplane serve` (the compiled CLI in its own process) on the embedded store: for each
 * directory size, the quickstart config over bench/generate.ts's HR export is applied, serve is started,
 * and once it says the directory is ready for JIT (it reads and indexes the state right after it listens),
 * JIT requests are sent one after another (creates of new people, then updates of the same people), then
 * a burst of concurrent creates (which serve runs together). Every answer must be 201/200; the run fails
 * otherwise. Latencies are client side, per request, with their median, p90 and p99. With --baseline REF
 * an earlier revision (bench/baseline.ts) is measured the same way in the same run, on its own copy of
 * the same data, for "before" beside "after".
 *
 *   node bench/serve-jit.ts [--sizes 1000,100000,1000000] [--requests 100] [--baseline REF [--baseline-node PATH] [--baseline-sizes 100000]] [--no-write]
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { prepareBaseline } from './baseline.ts';
import { runCli as generate } from './generate.ts';
import { writeResultsSection } from './results-file.ts';

const REPO = new URL('..', import.meta.url).pathname;
const SECRET = 'bench-jit-secret-0123456789abcdefghijkl';

const { values } = parseArgs({ options: { sizes: { type: 'string', default: '1000,100000,1000000' }, requests: { type: 'string', default: '100' }, baseline: { type: 'string' }, 'baseline-node': { type: 'string' }, 'baseline-sizes': { type: 'string' }, 'no-write': { type: 'boolean', default: false } } });
/** The sizes the baseline runs at (all by default): one that takes seconds per request at 1M would run for an hour. */
const BASELINE_SIZES = new Set((values['baseline-sizes'] ?? values.sizes).split(',').map(Number));
const SIZES = values.sizes.split(',').map(Number);
const REQUESTS = Number(values.requests);

interface Cli { label: string; node: string; bin: string; announcesReady: boolean }
interface Row { cli: string; users: number; ready: number | null; create: number[]; update: number[]; burst: { n: number; seconds: number } }

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

function person(i: number, title = 'Engineer'): Record<string, string> {
  return { employee_id: String(900_000_000 + i), first_name: 'Bench', last_name: `Person${i}`, work_email: `bench.person${i}@example.com`, department: 'Engineering', title, employment_type: 'Employee', status: 'Active', start_date: '2024-01-01', manager_id: '', phone: '' };
}

async function jit(url: string, body: Record<string, string>): Promise<number> {
  const started = performance.now();
  const res = await fetch(`${url}/jit/hr`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${SECRET}` }, body: JSON.stringify(body) });
  await res.text();
  if (res.status !== 200 && res.status !== 201) throw new Error(`JIT answered ${res.status}`);
  return (performance.now() - started) / 1000;
}

async function measure(cli: Cli, users: number): Promise<Row> {
  const dir = join(REPO, `bench/out/serve-jit-${cli.announcesReady ? 'after' : 'before'}`);
  await rm(dir, { recursive: true, force: true });
  await generate(['--users', String(users), '--out', dir]);
  const config = await readFile(join(REPO, 'examples/quickstart/idplane.yaml'), 'utf8');
  await writeFile(join(dir, 'idplane.yaml'), `${config}\nserve:\n  jit: { secret: "\${env:JIT_SECRET}" }\n`);
  const env = { ...process.env, JIT_SECRET: SECRET, NO_COLOR: '1' };
  const applied = spawnSync(cli.node, [cli.bin, '-C', dir, 'apply', '--auto-approve', '--allow-mass-change'], { env, stdio: 'ignore' });
  if (applied.status !== 0) throw new Error(`apply of ${users} users exited ${applied.status}`);
  const started = performance.now();
  const proc = spawn(cli.node, [cli.bin, '-C', dir, 'serve', '--listen', '127.0.0.1:0'], { env });
  try {
    let log = '';
    const seen = (pattern: RegExp) => new Promise<RegExpExecArray>((resolve, reject) => {
      const check = () => {
        const m = pattern.exec(log);
        if (m) resolve(m);
      };
      proc.stderr.on('data', (d) => {
        log += d;
        check();
      });
      proc.on('close', () => reject(new Error(`serve exited: ${log}`)));
      check();
    });
    const url = (await seen(/listening on (http\S+?);?\s/))[1]!;
    // The current server reads and indexes the directory right after it listens, and says so.
    const ready = cli.announcesReady ? (await seen(/directory ready for JIT/), (performance.now() - started) / 1000) : null;
    const create: number[] = [];
    const update: number[] = [];
    for (let i = 0; i < REQUESTS; i++) create.push(await jit(url, person(i)));
    for (let i = 0; i < REQUESTS; i++) update.push(await jit(url, person(i, 'Staff Engineer')));
    const n = 20;
    const burst = performance.now();
    await Promise.all(Array.from({ length: n }, (_, i) => jit(url, person(REQUESTS + 1000 + i))));
    return { cli: cli.label, users, ready, create, update, burst: { n, seconds: (performance.now() - burst) / 1000 } };
  } finally {
    proc.kill('SIGTERM');
  }
}

const clis: Cli[] = [];
if (values.baseline) {
  const b = await prepareBaseline(REPO, join(REPO, 'bench/out'), values.baseline, values['baseline-node'] ?? process.execPath);
  clis.push({ label: `before (${b.label})`, node: b.node, bin: b.bin, announcesReady: false });
}
clis.push({ label: values.baseline ? `after (this checkout, Node ${process.version})` : 'idplane', node: process.execPath, bin: join(REPO, 'cli/bin/idplane.js'), announcesReady: true });

const ms = (s: number) => (s * 1000).toFixed(1);
const rows: Row[] = [];
for (const users of SIZES) {
  for (const cli of clis) {
    if (cli.label.startsWith('before') && !BASELINE_SIZES.has(users)) continue;
    const row = await measure(cli, users);
    rows.push(row);
    console.log(`${cli.label}, ${users} users: create p50 ${ms(percentile(row.create, 50))} ms p99 ${ms(percentile(row.create, 99))} ms, update p50 ${ms(percentile(row.update, 50))} ms p99 ${ms(percentile(row.update, 99))} ms`);
  }
}

const table = rows.map((r) => `| ${r.cli} | ${r.users.toLocaleString('en-US')} | ${r.ready === null ? '—' : `${r.ready.toFixed(1)} s`} | ${ms(percentile(r.create, 50))} / ${ms(percentile(r.create, 90))} / ${ms(percentile(r.create, 99))} | ${ms(percentile(r.update, 50))} / ${ms(percentile(r.update, 90))} / ${ms(percentile(r.update, 99))} | ${r.burst.n} in ${r.burst.seconds.toFixed(2)} s |`);
const body = `Generated by \`node bench/serve-jit.ts --sizes ${values.sizes} --requests ${REQUESTS}${values.baseline ? ` --baseline ${values.baseline}${values['baseline-sizes'] ? ` --baseline-sizes ${values['baseline-sizes']}` : ''}` : ''}\` on ${new Date().toISOString().slice(0, 10)}.
Machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}.

\`idplane serve\` (compiled CLI, embedded store) after an apply of N users from the quickstart config. "ready" is
how long after its start the server said the directory was read and indexed for JIT; then ${REQUESTS} JIT creates
one after another, ${REQUESTS} updates of the same people, and 20 creates sent at once (requests that wait
together go into one run). Milliseconds per request, client side (HTTP on 127.0.0.1 included): p50 / p90 / p99.

| server | users in the directory | ready | create ms | update ms | concurrent creates |
| --- | ---: | ---: | ---: | ---: | ---: |
${table.join('\n')}

A JIT run plans its accounts on the few users they concern (reconciler/jit-slice.ts), against the directory
and indexes the server holds between runs (engine/runs/jit-session.ts), and writes only the rows it changes,
with its journal and run record, in one transaction (StateStore.writeDelta): nothing in it grows with the
directory. The server reads and indexes the directory once, when it starts, and again only after another
run wrote it (an apply, a scheduled import). JIT requests that arrive while a run is going on wait
together and are carried out as the next run (server/jit-batcher.ts).`;
if (!values['no-write']) await writeResultsSection('serve: JIT latency', body);
console.log(body);
