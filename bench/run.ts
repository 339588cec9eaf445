/**
 * End-to-end benchmark of the CLI on the embedded store: for each N it generates a deterministic HR
 * export (bench/generate.ts), then times the real binary for `validate`, the first `plan` (N creates),
 * `apply` of that saved plan, a no-change `plan`, and a `plan` after 1% of rows changed. Peak memory
 * comes from /usr/bin/time when present. Terraform (terraform_data resources fed by csvdecode of the
 * same file) is timed beside it for the sizes given with --terraform. Results go to bench/RESULTS.md.
 *
 *   npx tsx bench/run.ts [--users 1000,10000,100000] [--terraform 1000,10000] [--terraform-limit 300] [--no-write]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
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

function timed(command: string, args: string[], cwd: string, env: Record<string, string> = {}, limitSeconds = 0): Timing {
  const started = process.hrtime.bigint();
  const argv = TIME ? ['-f', '__PEAK_KB=%M', command, ...args] : args;
  const result = spawnSync(TIME ?? command, argv, { cwd, encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 1 << 30, killSignal: 'SIGKILL', ...(limitSeconds ? { timeout: limitSeconds * 1000 } : {}) });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (result.error && (result.error as NodeJS.ErrnoException).code === 'ETIMEDOUT') {
    spawnSync('pkill', ['-KILL', '-f', `${command} ${args[0]}`]); // /usr/bin/time's child outlives the kill
    return { seconds, peakMiB: null, timedOut: true };
  }
  if (result.status !== 0 && !(args.includes('--detailed-exitcode') && result.status === 2)) {
    throw new Error(`${command} ${args.join(' ')} failed (${result.status}):\n${result.stderr.slice(-2000)}`);
  }
  const peak = /__PEAK_KB=(\d+)/.exec(result.stderr ?? '');
  return { seconds, peakMiB: peak ? Number(peak[1]) / 1024 : null };
}

const idplane = (dir: string, ...args: string[]) => timed(process.execPath, [BIN, '-C', dir, ...args], dir);

async function prepare(n: number): Promise<string> {
  const dir = join(OUT, `n${n}`);
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
  for (let i = 1; i < lines.length; i += 100) if (lines[i]) lines[i] = lines[i]!.replace(/,(Employee|Contractor),/, ',$1,').replace(/^([^,]*,[^,]*,[^,]*,[^,]*,[^,]*,)/, '$1Renamed ');
  await writeFile(file, lines.join('\n'));
}

async function benchIdplane(n: number) {
  const dir = await prepare(n);
  const validate = idplane(dir, 'validate');
  const plan = idplane(dir, 'plan', '--out', 'plan.json', '--format', 'json');
  const apply = idplane(dir, 'apply', 'plan.json', '--format', 'json');
  const noChange = idplane(dir, 'plan', '--detailed-exitcode', '--format', 'json');
  await touchOnePercent(dir);
  const onePercent = idplane(dir, 'plan', '--detailed-exitcode', '--format', 'json');
  return { validate, plan, apply, noChange, onePercent };
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

async function benchTerraform(n: number) {
  const dir = join(OUT, `tf${n}`);
  await rm(dir, { recursive: true, force: true });
  await mkdir(join(dir, 'data'), { recursive: true });
  await generateHrCsv({ users: n, out: createWriteStream(join(dir, 'data/hr.csv')) });
  await writeFile(join(dir, 'main.tf'), TERRAFORM_MAIN);
  const env = { TF_IN_AUTOMATION: '1', TF_CLI_CONFIG_FILE: '/dev/null', CHECKPOINT_DISABLE: '1' };
  timed('terraform', ['init', '-input=false', '-no-color'], dir, env);
  const plan = timed('terraform', ['plan', '-input=false', '-no-color', '-out=tf.plan'], dir, env, TF_LIMIT);
  if (plan.timedOut) return { plan };
  const apply = timed('terraform', ['apply', '-input=false', '-no-color', 'tf.plan'], dir, env, TF_LIMIT);
  if (apply.timedOut) return { plan, apply };
  const noChange = timed('terraform', ['plan', '-input=false', '-no-color', '-detailed-exitcode'], dir, env, TF_LIMIT);
  return { plan, apply, noChange };
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

const { values } = parseArgs({ options: { users: { type: 'string', default: '1000,10000,100000' }, terraform: { type: 'string', default: '1000,10000' }, 'terraform-limit': { type: 'string', default: '300' }, 'no-write': { type: 'boolean', default: false } } });
const TF_LIMIT = Number(values['terraform-limit']);
const sizes = values.users.split(',').map(Number);
const tfSizes = new Set(values.terraform.split(',').filter(Boolean).map(Number));
const tfVersion = terraformVersion();

const rows: string[] = [];
for (const n of sizes) {
  process.stderr.write(`idplane N=${n} ...\n`);
  const r = await benchIdplane(n);
  rows.push(`| idplane | ${n.toLocaleString('en')} | ${fmt(r.validate)} | ${fmt(r.plan)} | ${fmt(r.apply)} | ${fmt(r.noChange)} | ${fmt(r.onePercent)} |`);
  if (tfVersion && tfSizes.has(n)) {
    process.stderr.write(`terraform N=${n} ...\n`);
    const t = await benchTerraform(n);
    rows.push(`| terraform_data | ${n.toLocaleString('en')} | — | ${fmt(t.plan)} | ${fmt(t.apply)} | ${fmt(t.noChange)} | — |`);
  }
}

const machine = `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${process.platform} ${process.arch}`;
const body = `Generated by \`npm run bench\` (bench/run.ts) on ${new Date().toISOString().slice(0, 10)}.
Machine: ${machine}.
${tfVersion ? `Terraform: ${tfVersion}, built-in \`terraform_data\` resources, one per CSV row, fed by \`csvdecode\` of the same file (local state); each Terraform step is stopped after ${TF_LIMIT} s.` : 'Terraform: not installed on this machine, so no comparison was run.'}

Each cell is the wall time of one run of the real CLI (process start included) / peak RSS. The data is
bench/generate.ts's deterministic HR export (seed 42) with the quickstart config: 12 mapped attributes,
two match rules, a \`disabled\` expression. "plan, first" plans N creates; "apply" applies that saved plan
to the embedded store; "plan, no change" is the steady state; "plan, 1% changed" after editing every
100th row's title.

| tool | users | validate | plan, first | apply | plan, no change | plan, 1% changed |
| --- | ---: | ---: | ---: | ---: | ---: | ---: |
${rows.join('\n')}
`;
console.log(body);
if (!values['no-write']) await writeResultsSection('CLI on the embedded store', body);
