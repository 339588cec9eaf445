/**
 * What the SCIM benchmarks share: the test SCIM server in a process of its own (bench/scim-server.ts,
 * with FAULTS to inject), a project that pushes HR users to it, and one timed `idplane apply` of it.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { generateHrCsv } from './generate.ts';

export const REPO = fileURLToPath(new URL('..', import.meta.url));

export interface ScimProcess {
  url: string;
  token: string;
  stop: () => void;
}

/** Starts the server; `faults` as bench/scim-server.ts reads FAULTS ("429:0.1:1,500:0.1"). */
export async function startScimProcess(faults = ''): Promise<ScimProcess> {
  const child = spawn(join(REPO, 'node_modules/.bin/tsx'), [join(REPO, 'bench/scim-server.ts')], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, FAULTS: faults } });
  const line = await new Promise<string>((resolve) => createInterface({ input: child.stdout }).once('line', resolve));
  const [url, token] = line.split(' ') as [string, string];
  return { url, token, stop: () => child.kill('SIGTERM') };
}

/** A fresh project in `dir`: `users` generated HR rows, pushed to the SCIM server at `url` with `concurrency`. */
export async function writePushProject(dir: string, users: number, url: string, concurrency: number): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(join(dir, 'data'), { recursive: true });
  await generateHrCsv({ users, out: createWriteStream(join(dir, 'data/hr.csv')) });
  await writeFile(join(dir, 'idplane.yaml'), `version: 1
directory: { attributes: { login: { required: true, unique: true }, email: {}, firstName: {}, lastName: {}, title: {} } }
apps:
  hr:
    provider: csv
    connection: { path: data/hr.csv }
    key: employee_id
    import:
      newUserStatus: ACTIVE
      mappings: { login: app.work_email, email: app.work_email, firstName: app.first_name, lastName: app.last_name, title: app.title }
  crm:
    provider: scim
    connection: { url: "${url}", token: "\${env:SCIM_TOKEN}", concurrency: ${concurrency} }
    provision:
      mappings: { userName: user.email, name.givenName: user.firstName, name.familyName: user.lastName, title: user.title }
`);
}

export interface TimedApply {
  seconds: number;
  status: number;
  stderr: string;
  /** Each account change's result (apply --format json). */
  accounts: { outcome: string }[];
}

/** `idplane apply --auto-approve --format json` of the project, timed as a whole CLI run. */
export function timedApply(dir: string, token: string): TimedApply {
  const started = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [join(REPO, 'cli/bin/idplane.js'), '-C', dir, 'apply', '--auto-approve', '--format', 'json'], { encoding: 'utf8', env: { ...process.env, SCIM_TOKEN: token }, maxBuffer: 1 << 30 });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const last = r.stdout.trim().split('\n').at(-1) ?? '{}';
  let accounts: { outcome: string }[] = [];
  try {
    accounts = (JSON.parse(last) as { accounts?: { outcome: string }[] }).accounts ?? [];
  } catch {
    // No result document (apply stopped with an error): the status and stderr say why.
  }
  return { seconds, status: r.status ?? -1, stderr: r.stderr, accounts };
}
