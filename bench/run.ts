/**
 * End-to-end benchmark of the CLI on the embedded store: for each N it generates a deterministic HR
 * export (bench/generate.ts), then times the real binary (the compiled build, as users run it) for
 * `validate`, the first `plan --out` (N creates; its text goes to a file, as a CI log would take it),
 * `apply` of that saved plan, a no-change `plan`, a `plan` after 1% of rows changed and the `apply` of
 * that change. Peak memory comes from /usr/bin/time when present; the sizes of the plan file and of the
 * state are recorded per user. With --baseline REF, an earlier revision (bench/baseline.ts: exported and
 * installed beside this one, run on --baseline-node, by default this node) goes through the same steps
 * on its own copy of the same data in the same run, just before this one, so "before" and "after" come
 * from one machine at one time. Terraform (terraform_data resources fed by csvdecode of the same file)
 * is timed beside it for the sizes given with --terraform, and the ratios are computed. Results go to
 * bench/RESULTS.md.
 *
 *   npm run bench -- [--users 1000,100000,1000000] [--baseline REF [--baseline-node PATH]] [--terraform 5000] [--terraform-limit 900] [--reuse-terraform] [--no-write]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, createWriteStream, existsSync, openSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { prepareBaseline, type Baseline } from './baseline.ts';
import { generateHrCsv } from './generate.ts';
import { writeResultsSection } from './results-file.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const OUT = join(REPO, 'bench/out');
const BIN = join(REPO, 'cli/bin/idplane.js');
const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;

interface Timing {
  seconds: number;
  peakMiB: number | null;
  /** Stopped at the time limit. */
  timedOut?: boolean;
}

/** Runs a command with stdout into `stdoutFile` (or discarded), and times it. */
function timed(command: string, args: string[], cwd: string, options: { env?: Record<string, string>; limitSeconds?: number; stdoutFile?: string; okCodes?: number[] } = {}): Timing {
  const out = openSync(options.stdoutFile ?? '/dev/null', 'w');
  const started = process.hrtime.bigint();
  const argv = TIME ? ['-f', '__PEAK_KB=%M', command, ...args] : args;
  const result = spawnSync(TIME ?? command, argv, {
    cwd, encoding: 'utf8', env: { ...process.env, ...options.env }, stdio: ['ignore', out, 'pipe'], maxBuffer: 64 << 20,
    killSignal: 'SIGKILL', ...(options.limitSeconds ? { timeout: options.limitSeconds * 1000 } : {}),
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  closeSync(out);
  if (result.error && (result.error as NodeJS.ErrnoException).code === 'ETIMEDOUT') {
    spawnSync('pkill', ['-KILL', '-f', `${command} ${args[0]}`]); // /usr/bin/time's child outlives the kill
    return { seconds, peakMiB: null, timedOut: true };
  }
  if (result.status !== 0 && !(options.okCodes ?? []).includes(result.status ?? -1)) {
    throw new Error(`${command} ${args.join(' ')} failed (${result.status}):\n${(result.stderr ?? '').slice(-2000)}`);
  }
  const peak = /__PEAK_KB=(\d+)/.exec(result.stderr ?? '');
  return { seconds, peakMiB: peak ? Number(peak[1]) / 1024 : null };
}

/** Which idplane runs: this checkout's, or a baseline's. */
interface Cli {
  node: string;
  bin: string;
  label: string;
}

const CURRENT: Cli = { node: process.execPath, bin: BIN, label: 'idplane' };

const idplane = (cli: Cli, dir: string, args: string[], stdoutFile?: string) => timed(cli.node, [cli.bin, '-C', dir, ...args], dir, { okCodes: [2], ...(stdoutFile ? { stdoutFile } : {}) });

async function prepare(n: number, name = `n${n}`): Promise<string> {
  const dir = join(OUT, name);
  await rm(dir, { recursive: true, force: true });
  await mkdir(join(dir, 'data'), { recursive: true });
  await generateHrCsv({ users: n, out: createWriteStream(join(dir, 'data/hr.csv')) });
  const config = await readFile(join(REPO, 'examples/quickstart/idplane.yaml'), 'utf8');
  await writeFile(join(dir, 'idplane.yaml'), config);
  return dir;
}

/** Changes the title of every 100th data row, deterministically. */
async function touchOnePercent(dir: string): Promise<void> {
  const file = join(dir, 'data/hr.csv');
  const lines = (await readFile(file, 'utf8')).split('\n');
  for (let i = 1; i < lines.length; i += 100) if (lines[i]) lines[i] = lines[i]!.replace(/^([^,]*,[^,]*,[^,]*,[^,]*,[^,]*,)/, '$1Renamed ');
  await writeFile(file, lines.join('\n'));
}

interface IdplaneRun {
  validate: Timing;
  plan: Timing;
  apply: Timing;
  noChange: Timing;
  onePercent: Timing;
  applyOnePercent: Timing;
  planBytes: number;
  textBytes: number;
  stateBytes: number;
}

async function benchIdplane(n: number, cli: Cli = CURRENT, name = `n${n}`): Promise<IdplaneRun> {
  const dir = await prepare(n, name);
  const validate = idplane(cli, dir, ['validate']);
  const plan = idplane(cli, dir, ['plan', '--out', 'plan.idplan'], join(dir, 'plan.txt'));
  const apply = idplane(cli, dir, ['apply', 'plan.idplan']);
  const stateBytes = await stateSize(dir);
  const noChange = idplane(cli, dir, ['plan', '--detailed-exitcode']);
  await touchOnePercent(dir);
  const onePercent = idplane(cli, dir, ['plan', '--detailed-exitcode']);
  const applyOnePercent = idplane(cli, dir, ['apply', '--auto-approve']);
  const size = async (file: string) => (await stat(join(dir, file))).size;
  return { validate, plan, apply, noChange, onePercent, applyOnePercent, planBytes: await size('plan.idplan'), textBytes: await size('plan.txt'), stateBytes };
}

/** The bytes of the state in .idplane/ (the database and its log, or a former-format file), backups and locks left out. */
async function stateSize(dir: string): Promise<number> {
  let bytes = 0;
  for (const name of await readdir(join(dir, '.idplane'))) {
    if (/\.backup$|^lock|\.tmp$/.test(name) || name.startsWith('history')) continue;
    bytes += (await stat(join(dir, '.idplane', name))).size;
  }
  return bytes;
}

const TERRAFORM_MAIN = `
locals {
  rows = { for r in csvdecode(file("\${path.module}/data/hr.csv")) : r.employee_id => r }
}
resource "terraform_data" "user" {
  for_each = local.rows
  input = {
    login          = lower(each.value.work_email)
    email          = lower(each.value.work_email)
    employeeNumber = each.value.employee_id
    firstName      = each.value.first_name
    lastName       = each.value.last_name
    displayName    = "\${each.value.first_name} \${each.value.last_name}"
    department     = each.value.department
    title          = each.value.title
    userType       = each.value.employment_type == "Contractor" ? "contractor" : "employee"
    managerId      = each.value.manager_id
    mobilePhone    = each.value.phone
    startDate      = each.value.start_date
    active         = each.value.status != "Terminated"
  }
}
`;

interface TerraformRun {
  plan: Timing;
  apply?: Timing;
  noChange?: Timing;
}

async function benchTerraform(n: number): Promise<TerraformRun> {
  const dir = join(OUT, `tf${n}`);
  await rm(dir, { recursive: true, force: true });
  await mkdir(join(dir, 'data'), { recursive: true });
  await generateHrCsv({ users: n, out: createWriteStream(join(dir, 'data/hr.csv')) });
  await writeFile(join(dir, 'main.tf'), TERRAFORM_MAIN);
  const env = { TF_IN_AUTOMATION: '1', TF_CLI_CONFIG_FILE: '/dev/null', CHECKPOINT_DISABLE: '1' };
  timed('terraform', ['init', '-input=false', '-no-color'], dir, { env });
  const limits = { env, limitSeconds: TF_LIMIT };
  const plan = timed('terraform', ['plan', '-input=false', '-no-color', '-out=tf.plan'], dir, { ...limits, stdoutFile: join(dir, 'plan.txt') });
  if (plan.timedOut) return { plan };
  const apply = timed('terraform', ['apply', '-input=false', '-no-color', 'tf.plan'], dir, limits);
  if (apply.timedOut) return { plan, apply };
  const noChange = timed('terraform', ['plan', '-input=false', '-no-color', '-detailed-exitcode'], dir, { ...limits, okCodes: [2] });
  return { plan, apply, noChange };
}

/**
 * Terraform's figures do not depend on idplane's code, and a run at 5,000 users takes most of half an
 * hour: with --reuse-terraform, figures this harness measured earlier on this machine (kept in
 * bench/out/terraform-N.json, with the version, the limit and the date) are reused, and RESULTS.md says so.
 */
async function terraformFigures(n: number, version: string): Promise<TerraformRun & { measuredOn: string; reused: boolean }> {
  const cache = join(OUT, `terraform-${n}.json`);
  if (values['reuse-terraform'] && existsSync(cache)) {
    const kept = JSON.parse(await readFile(cache, 'utf8')) as { version: string; limit: number; measuredOn: string; run: TerraformRun };
    if (kept.version === version && kept.limit === TF_LIMIT) return { ...kept.run, measuredOn: kept.measuredOn, reused: true };
  }
  const run = await benchTerraform(n);
  const measuredOn = new Date().toISOString().slice(0, 10);
  await writeFile(cache, JSON.stringify({ version, limit: TF_LIMIT, measuredOn, run }));
  return { ...run, measuredOn, reused: false };
}

function terraformVersion(): string | null {
  try {
    return execFileSync('terraform', ['version'], { encoding: 'utf8', env: { ...process.env, TF_CLI_CONFIG_FILE: '/dev/null' } }).split('\n').find((l) => l.startsWith('Terraform v')) ?? null;
  } catch {
    return null;
  }
}

const fmt = (t: Timing | undefined) => {
  if (!t) return '—';
  if (t.timedOut) return `stopped after ${t.seconds.toFixed(0)} s`;
  return `${t.seconds.toFixed(2)} s${t.peakMiB !== null ? ` / ${t.peakMiB.toFixed(0)} MiB` : ''}`;
};
const ratio = (tf: Timing | undefined, ours: Timing) => (!tf ? '—' : tf.timedOut ? `> ${(tf.seconds / ours.seconds).toFixed(0)}×` : `${(tf.seconds / ours.seconds).toFixed(1)}×`);

const { values } = parseArgs({ options: { users: { type: 'string', default: '1000,100000,1000000' }, baseline: { type: 'string' }, 'baseline-node': { type: 'string' }, terraform: { type: 'string', default: '5000' }, 'terraform-limit': { type: 'string', default: '900' }, 'no-write': { type: 'boolean', default: false }, 'reuse-terraform': { type: 'boolean', default: false } } });
const TF_LIMIT = Number(values['terraform-limit']);
const sizes = values.users.split(',').filter(Boolean).map(Number);
const tfSizes = values.terraform.split(',').filter(Boolean).map(Number);
const tfVersion = terraformVersion();

const baseline: Baseline | null = values.baseline ? await prepareBaseline(REPO, OUT, values.baseline, values['baseline-node'] ?? process.execPath) : null;
const runs: [Cli, string][] = [
  ...(baseline ? [[{ ...baseline, label: `before (${baseline.label})` }, 'before'] as [Cli, string]] : []),
  [{ ...CURRENT, label: baseline ? `after (this checkout, Node ${process.version})` : 'idplane' }, ''],
];
const rows: string[] = [];
const sizesRows: string[] = [];
for (const n of sizes) {
  for (const [cli, suffix] of runs) {
    process.stderr.write(`${cli.label} N=${n} ...\n`);
    const r = await benchIdplane(n, cli, `n${n}${suffix ? `-${suffix}` : ''}`);
    rows.push(`| ${cli.label} | ${n.toLocaleString('en')} | ${fmt(r.validate)} | ${fmt(r.plan)} | ${fmt(r.apply)} | ${fmt(r.noChange)} | ${fmt(r.onePercent)} | ${fmt(r.applyOnePercent)} |`);
    const perUser = (bytes: number) => `${Math.round(bytes / n)} B`;
    sizesRows.push(`| ${cli.label} | ${n.toLocaleString('en')} | ${(r.planBytes / 2 ** 20).toFixed(1)} MiB (${perUser(r.planBytes)}) | ${(r.textBytes / 2 ** 20).toFixed(1)} MiB | ${(r.stateBytes / 2 ** 20).toFixed(1)} MiB (${perUser(r.stateBytes)}) |`);
  }
}

const tfRows: string[] = [];
const tfNotes: string[] = [];
if (tfVersion) {
  for (const n of tfSizes) {
    process.stderr.write(`side by side N=${n} ...\n`);
    const ours = await benchIdplane(n, CURRENT, `n${n}-tf`);
    const tf = await terraformFigures(n, tfVersion);
    if (tf.reused) tfNotes.push(`The Terraform figures at ${n.toLocaleString('en')} users were measured by this harness on ${tf.measuredOn} on this machine and reused (\`--reuse-terraform\`); idplane's were measured in this run.`);
    tfRows.push(
      `| idplane | ${n.toLocaleString('en')} | ${fmt(ours.plan)} | ${fmt(ours.apply)} | ${fmt(ours.noChange)} |`,
      `| terraform_data | ${n.toLocaleString('en')} | ${fmt(tf.plan)} | ${fmt(tf.apply)} | ${fmt(tf.noChange)} |`,
      `| Terraform ÷ idplane | | ${ratio(tf.plan, ours.plan)} | ${ratio(tf.apply, ours.apply)} | ${ratio(tf.noChange, ours.noChange)} |`,
    );
  }
}

const machine = `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${process.platform} ${process.arch}`;
const body = `Generated by \`npm run bench\` (bench/run.ts) on ${new Date().toISOString().slice(0, 10)}.
Machine: ${machine}.

Each cell is the wall time of one run of the real CLI (process start included, the compiled build in dist/)
/ peak RSS, with Node's default heap settings. The data is bench/generate.ts's deterministic HR export
(seed 42) with the quickstart config: 12 mapped attributes, two match rules, a \`disabled\` expression.
"plan, first" is \`plan --out plan.idplan\` of N creates, its text written to a file (as a CI log takes
it); "apply" applies that saved plan to the embedded store; "plan, no change" is the steady state;
"plan, 1% changed" after editing every 100th row's title, and "apply, 1% changed" the \`apply --auto-approve\`
of that change.${baseline ? ` "before" is revision ${baseline.commit} run by ${baseline.node}, measured in this same run just
before "after", on its own copy of the same data.` : ''}

| tool | users | validate | plan, first | apply | plan, no change | plan, 1% changed | apply, 1% changed |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${rows.join('\n')}

Sizes on disk after the first plan and its apply: the saved plan (a compressed stream: Zstandard; gzip for a baseline before it), the plan's text
output, and the embedded state (its files in .idplane/, the backup left out).

| tool | users | plan file | plan text | state |
| --- | ---: | ---: | ---: | ---: |
${sizesRows.join('\n')}

${tfVersion ? `Side by side with Terraform (${tfVersion}): built-in \`terraform_data\` resources, one per CSV row, fed by
\`csvdecode\` of the same file (local state), in the same run; each Terraform step is stopped after ${TF_LIMIT} s.

| tool | users | plan, first | apply | plan, no change |
| --- | ---: | ---: | ---: | ---: |
${tfRows.join('\n')}${tfNotes.length ? `\n\n${tfNotes.join('\n')}` : ''}` : 'Terraform: not installed on this machine, so no comparison was run.'}
`;
console.log(body);
if (!values['no-write']) await writeResultsSection('CLI on the embedded store', body);
