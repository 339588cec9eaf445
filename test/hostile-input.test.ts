/**
 * Text that no value may hold, through the real CLI on both state backends: a NUL (U+0000) in one cell of
 * the HR export is refused for that row alone, with its line, column and key, and the rest is planned and
 * applied; the next plan keeps the refused row's account as it was, and nobody is taken as gone.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onEachBackend } from './backends.ts';
import { copyExample, idplane } from './cli-helpers.ts';

interface PlanJson {
  summary: { users: Record<string, number> };
  warnings: { code: string; app?: string; line?: number; key?: string; message: string }[];
  applyable: boolean;
}

/** Puts a NUL into the title of employee 1004 (line 5 of the quickstart's export). */
async function poison(dir: string): Promise<void> {
  const file = join(dir, 'data/hr.csv');
  const lines = (await readFile(file, 'utf8')).split('\n');
  expect(lines[4]).toMatch(/^1004,/);
  lines[4] = lines[4]!.replace(/^((?:[^,]*,){5})([^,]*)/, '$1Data\u0000Engineer');
  await writeFile(file, lines.join('\n'));
}

async function nulRowIsRefused(dir: string, env: Record<string, string>): Promise<void> {
  await poison(dir);
  const plan = idplane(dir, ['plan', '--format', 'json'], { env });
  expect(plan.code, plan.stderr).toBe(0);
  const parsed = JSON.parse(plan.stdout) as PlanJson;
  expect(parsed.warnings).toContainEqual(expect.objectContaining({
    code: 'row-error', app: 'hr', line: 5, key: '1004',
    message: expect.stringMatching(/column 6 \(title\) holds a NUL character \(U\+0000\), which no value may hold; the row is not imported/),
  }));
  // The 49 other rows and the declared admin: everybody but 1004.
  expect(parsed.summary.users.create).toBe(50);
  const apply = idplane(dir, ['apply', '--auto-approve'], { env });
  expect(apply.code, apply.stderr).toBe(0);
  const again = idplane(dir, ['plan', '--format', 'json'], { env });
  expect((JSON.parse(again.stdout) as PlanJson).summary.users).toMatchObject({ create: 0, deactivate: 0 });
}

onEachBackend('a NUL in one cell of an HR export', 'refuses that row with its line, column and key, and plans and applies the rest; the write holds no NUL for PostgreSQL to refuse', nulRowIsRefused);

describe('an HR export with a row that cannot be read and a row gone', () => {
  let project: { dir: string; cleanup: () => Promise<void> };
  beforeAll(async () => {
    project = await copyExample('quickstart');
    expect(idplane(project.dir, ['apply', '--auto-approve']).code).toBe(0);
    const file = join(project.dir, 'data/hr.csv');
    const lines = (await readFile(file, 'utf8')).split('\n');
    lines[4] = lines[4]!.replace(/^1004,/, ','); // no key: which account the row is cannot be known
    lines.splice(6, 1); // 1006 is gone
    await writeFile(file, lines.join('\n'));
  });
  afterAll(() => project.cleanup());

  it('holds back the leaver, says so, never claims the directory matches, and exits 2 under --detailed-exitcode', () => {
    const text = idplane(project.dir, ['plan', '--detailed-exitcode']);
    expect(text.code, text.stderr).toBe(2);
    expect(text.stdout).toMatch(/No changes, but rows of a source could not be read, so what they hold was not compared \(see the warnings\): the directory may not match the sources\./);
    expect(text.stdout).not.toContain('The directory matches the sources');
    const json = JSON.parse(idplane(project.dir, ['plan', '--format', 'json']).stdout) as PlanJson & { summary: { heldBack?: number } };
    expect(json.summary.heldBack).toBe(1);
    expect(json.warnings).toContainEqual(expect.objectContaining({
      code: 'held-back', app: 'hr',
      message: '1 row of hr could not be read; 2 linked accounts missing from hr were not treated as missing, so their users are left as they are until hr reads whole',
    }));
    expect(json.summary.users.deactivate).toBe(0);
  });
});

describe('an HR export saved by Excel on Windows (windows-1252), on the embedded store', () => {
  let project: { dir: string; cleanup: () => Promise<void> };
  let nonAscii: number;
  beforeAll(async () => {
    project = await copyExample('quickstart');
    const file = join(project.dir, 'data/hr.csv');
    // Names windows-1252 can hold, applied from UTF-8 first.
    const text = (await readFile(file, 'utf8')).replaceAll('ı', 'i').replaceAll('Ł', 'L').replaceAll('ō', 'o');
    nonAscii = text.split('\n').filter((l) => /[^\x20-\x7e]/.test(l)).length;
    await writeFile(file, text);
    expect(idplane(project.dir, ['apply', '--auto-approve']).code).toBe(0);
    await writeFile(file, Buffer.from(text, 'latin1'));
  });
  afterAll(() => project.cleanup());

  it('refuses each row holding bytes that are not UTF-8, naming line and column, and renames nobody', () => {
    const plan = idplane(project.dir, ['plan', '--format', 'json', '--detailed-exitcode']);
    expect(plan.code, plan.stderr).toBe(2);
    const parsed = JSON.parse(plan.stdout) as PlanJson & { summary: { heldBack?: number; changes: number } };
    const refused = parsed.warnings.filter((w) => w.code === 'row-error');
    expect(refused).toHaveLength(nonAscii);
    expect(refused[0]).toMatchObject({ app: 'hr', line: expect.any(Number), key: expect.stringMatching(/^10\d\d$/), message: expect.stringMatching(/^line \d+: column \d+ \(\w+\) holds bytes that are not UTF-8 \(data\/hr\.csv is read as UTF-8; .*set connection\.encoding\); the row is not imported$/) });
    expect(parsed.summary.changes).toBe(0);
    expect(parsed.summary.heldBack).toBe(1);
  });

  it('reads it whole with connection.encoding: windows-1252: nothing changes', async () => {
    const config = join(project.dir, 'idplane.yaml');
    await writeFile(config, (await readFile(config, 'utf8')).replace('connection: { path: data/hr.csv }', 'connection: { path: data/hr.csv, encoding: windows-1252 }'));
    const plan = idplane(project.dir, ['plan', '--detailed-exitcode']);
    expect(plan.code, plan.stdout + plan.stderr).toBe(0);
    expect(plan.stdout).toContain('No changes. The directory matches the sources and the configuration.');
  });
});

describe('attribute names that are also names of Object.prototype, on the embedded store', () => {
  const NAMES = ['__proto__', 'toString', 'constructor', 'hasOwnProperty'];
  let project: { dir: string; cleanup: () => Promise<void> };
  beforeAll(async () => {
    project = await copyExample('quickstart');
    const csv = join(project.dir, 'data/hr.csv');
    const lines = (await readFile(csv, 'utf8')).split('\n');
    await writeFile(csv, lines.map((l, i) => (i === 0 ? `${l},${NAMES.join(',')}` : l ? `${l},p${i},t${i},c${i},h${i}` : l)).join('\n'));
    const config = join(project.dir, 'idplane.yaml');
    await writeFile(config, (await readFile(config, 'utf8'))
      .replace(/^( {4}nickname: .*)$/m, `$1\n${NAMES.map((_, i) => `    a${i}: { type: string }`).join('\n')}`)
      .replace(/^( {8}startDate: app\.start_date)$/m, `$1\n${NAMES.map((n, i) => `        a${i}: 'app["${n}"]'`).join('\n')}`));
  });
  afterAll(() => project.cleanup());

  it('reads them from a CSV column and from a JIT body as the values they are', () => {
    expect(idplane(project.dir, ['apply', '--auto-approve']).code).toBe(0);
    const shown = JSON.parse(idplane(project.dir, ['state', 'show', 'zoe.muller@example.com', '--format', 'json']).stdout) as { user: { profile: Record<string, string> } };
    expect([0, 1, 2, 3].map((i) => shown.user.profile[`a${i}`])).toEqual(['p4', 't4', 'c4', 'h4']);
    const body = JSON.stringify({
      employee_id: '2001', first_name: 'Jo', last_name: 'Proto', work_email: 'jo.proto@example.com', department: 'QA', title: 'Tester',
      employment_type: 'Employee', status: 'Active', start_date: '2024-01-01', manager_id: '', phone: '',
    }).replace(/}$/, `,${NAMES.map((n) => `"${n}":"${n}!"`).join(',')}}`);
    const jit = idplane(project.dir, ['jit', 'hr'], { input: body });
    expect(jit.code, jit.stderr).toBe(0);
    const jo = JSON.parse(idplane(project.dir, ['state', 'show', 'jo.proto@example.com', '--format', 'json']).stdout) as { user: { profile: Record<string, string> } };
    expect([0, 1, 2, 3].map((i) => jo.user.profile[`a${i}`])).toEqual(NAMES.map((n) => `${n}!`));
    // The next full read of the export: nothing changes for its users (Jo, not in it, is missing from hr).
    const plan = JSON.parse(idplane(project.dir, ['plan', '--format', 'json']).stdout) as { users: { login: string; action: string }[] };
    expect(plan.users.map((u) => [u.login, u.action])).toEqual([['jo.proto@example.com', 'deactivate']]);
  });
});

describe('a links: entry naming a user who does not exist', () => {
  let project: { dir: string; cleanup: () => Promise<void> };
  beforeAll(async () => {
    project = await copyExample('quickstart');
    expect(idplane(project.dir, ['apply', '--auto-approve']).code).toBe(0);
    const config = join(project.dir, 'idplane.yaml');
    await writeFile(config, `${await readFile(config, 'utf8')}links:\n  - { app: hr, key: "1004", user: nobody@example.com }\n`);
  });
  afterAll(() => project.cleanup());

  it('is a conflict the plan names, and the plan never claims the directory matches', () => {
    const text = idplane(project.dir, ['plan']);
    expect(text.code).toBe(3);
    expect(text.stdout).toContain('links: pins hr/1004 to nobody@example.com, but no such user exists');
    expect(text.stdout).toContain('No changes, but a conflict holds something back (see above): the directory may not match the sources and the configuration.');
    expect(text.stdout).not.toContain('The directory matches');
    const markdown = idplane(project.dir, ['plan', '--format', 'markdown']).stdout;
    expect(markdown).toContain('**No changes**, but a conflict holds something back');
    expect(markdown).not.toContain('The directory matches');
  });
});
