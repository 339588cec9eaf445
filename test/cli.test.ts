import { readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { copyExample, idplane } from './cli-helpers.ts';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await copyExample('quickstart')));
afterEach(async () => cleanup());

const hrCsv = () => join(dir, 'data/hr.csv');
async function editCsv(edit: (text: string) => string): Promise<void> {
  await writeFile(hrCsv(), edit(await readFile(hrCsv(), 'utf8')));
}

describe('the README walk-through on examples/quickstart', () => {
  it('plans, applies, plans nothing, then shows only an edited row', async () => {
    expect(idplane(dir, ['validate']).code).toBe(0);

    const first = idplane(dir, ['plan', '--detailed-exitcode']);
    expect(first.code).toBe(2);
    expect(first.stdout).toContain('+ user zoe.muller@example.com (create, ACTIVE)');
    expect(first.stdout).toContain('+ firstName      = "Zoë"');
    expect(first.stdout).toContain('+ user olivia.nguyen@example.com (create, DEPROVISIONED)');
    expect(first.stdout).toContain('Plan: 51 to create, 0 to update');

    const apply = idplane(dir, ['apply', '--auto-approve']);
    expect(apply.code).toBe(0);
    expect(apply.stdout).toContain('Apply complete! Users: 51 created');

    const again = idplane(dir, ['plan', '--detailed-exitcode']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('No changes.');

    await editCsv((t) => t.replace('Staff Software Engineer', 'Principal Engineer'));
    const edited = idplane(dir, ['plan', '--detailed-exitcode']);
    expect(edited.code).toBe(2);
    expect(edited.stdout).toContain('~ user zoe.muller@example.com (update)');
    expect(edited.stdout).toContain('~ title = "Staff Software Engineer" → "Principal Engineer"');
    expect(edited.stdout).toContain('Plan: 0 to create, 1 to update, 0 to activate, 0 to deactivate');
    expect(edited.stdout.match(/ user /g)).toHaveLength(1);

    expect(idplane(dir, ['apply', '--auto-approve']).code).toBe(0);
    expect(idplane(dir, ['plan', '--detailed-exitcode']).code).toBe(0);
    const show = idplane(dir, ['state', 'show', 'zoe.muller@example.com']);
    expect(show.stdout).toContain('title          = "Principal Engineer"');
    expect(show.stdout).toContain('hr/1004');
  });

  it('deactivates a terminated employee on the next plan', async () => {
    expect(idplane(dir, ['apply', '--auto-approve']).code).toBe(0);
    await editCsv((t) => t.replace(/^(1004,.*),Active,/m, '$1,Terminated,'));
    const p = idplane(dir, ['plan']);
    expect(p.stdout).toContain('- user zoe.muller@example.com (deactivate: ACTIVE → DEPROVISIONED)');
    expect(p.stdout).toContain('account is disabled at the source');
  });
});

describe('-C DIR', () => {
  it('finds every relative path on the command line in DIR, as Terraform\'s -chdir does', async () => {
    // The test runs in the repository; the plan file must land beside the config, not here.
    const saved = idplane(dir, ['plan', '--out', 'relative.plan']);
    expect(saved.code).toBe(0);
    expect(saved.stdout).toContain(`Saved the plan to ${join(dir, 'relative.plan')}.`);
    expect(saved.stdout).toContain(`idplane -C ${dir} apply relative.plan`);
    await expect(readFile(join(dir, 'relative.plan'))).resolves.toBeInstanceOf(Buffer);
    await expect(readFile('relative.plan')).rejects.toThrow(/ENOENT/);
    expect(idplane(dir, ['show', 'relative.plan']).stdout).toContain('Plan: 51 to create');
    const applied = idplane(dir, ['apply', 'relative.plan']);
    expect(applied.code).toBe(0);
    expect(applied.stdout).toContain('Apply complete! Users: 51 created');
  });
});

describe('saved plans', () => {
  it('applies exactly a saved plan; applied again, finds its changes made and applies nothing', async () => {
    const planFile = join(dir, 'first.plan.json');
    const saved = idplane(dir, ['plan', '--out', planFile]);
    expect(saved.code).toBe(0);
    expect(saved.stdout).toContain(`idplane -C ${dir} apply ${planFile}`);
    const shown = idplane(dir, ['show', planFile]);
    expect(shown.stdout).toContain('Plan: 51 to create');

    const first = idplane(dir, ['apply', planFile]);
    expect(first.code).toBe(0);
    expect(first.stdout).not.toContain('The reviewed plan, checked against');
    const again = idplane(dir, ['apply', planFile]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('✓ reviewed effect  0 change(s)');
    expect(again.stdout).toMatch(/~ data changes {5}51 user\(s\) with 101 change\(s\) since the review/);
    expect(again.stdout).toContain(': the reviewed change was made since (applied already)');
    expect(again.stdout).toContain('Nothing to apply.');
    const json = JSON.parse(idplane(dir, ['apply', planFile, '--format', 'json']).stdout);
    expect(json).toMatchObject({ applied: false, review: { moved: true, reviewed: 0, records: 50 } });
    expect(json.review.since).toHaveLength(51);
    expect(new Set(json.review.since.map((s: { why: string }) => s.why))).toEqual(new Set(['applied']));
  });

  it('applies a saved plan after the source data changed since it was made, the changed row as a data change', async () => {
    const planFile = join(dir, 'first.plan');
    expect(idplane(dir, ['plan', '--out', planFile]).code).toBe(0);
    await editCsv((t) => t.replace('Staff Software Engineer', 'Principal Engineer'));
    const r = idplane(dir, ['apply', planFile]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('✓ reviewed effect  100 change(s), exactly as the saved plan shows them');
    expect(r.stdout).toMatch(/~ data changes {5}1 user\(s\) with 1 change\(s\) since the review/);
    expect(r.stdout).toMatch(/\n {6}\S+@example\.com: their data changed since the review\n/);
    expect(r.stdout).toContain('Apply complete! Users: 51 created');
    expect(idplane(dir, ['state', 'show', 'zoe.muller@example.com']).stdout).toContain('Principal Engineer');
  });

  it('apply --dry-run checks a saved plan as apply would and writes nothing; it needs a plan file, and Markdown needs it', async () => {
    const planFile = join(dir, 'first.plan');
    expect(idplane(dir, ['plan', '--out', planFile]).code).toBe(0);
    const checked = idplane(dir, ['apply', planFile, '--dry-run']);
    expect(checked.code, checked.stderr).toBe(0);
    expect(checked.stdout).toContain('✓ reviewed effect  101 change(s), exactly as the saved plan shows them');
    expect(checked.stdout).toContain('Checked, nothing written: applying the plan now would carry out 51 users to create, 0 to update');
    expect(JSON.parse(idplane(dir, ['apply', planFile, '--dry-run', '--format', 'json']).stdout)).toMatchObject({ checked: true, review: { moved: false, reviewed: 101, since: [] } });
    expect(idplane(dir, ['state', 'list']).stdout).toContain('The directory is empty');
    expect(idplane(dir, ['apply', '--dry-run']).stderr).toContain('--dry-run checks a saved plan: give the plan file');
    expect(idplane(dir, ['apply', planFile, '--format', 'markdown']).stderr).toContain('apply writes Markdown only with --dry-run');
    expect(idplane(dir, ['state', 'list']).stdout).toContain('The directory is empty');
  });

  it('applies the values it reads again for the records a saved plan lists', async () => {
    const planFile = join(dir, 'first.plan');
    expect(idplane(dir, ['plan', '--out', planFile]).code).toBe(0);
    const shown = JSON.parse(idplane(dir, ['show', planFile, '--format', 'json']).stdout);
    expect(shown.imports[0]).toEqual({ action: 'record', app: 'hr', key: expect.any(String), disabled: false });
    expect(idplane(dir, ['apply', planFile]).code).toBe(0);
    // The records hold the values read: the next plan of the same data changes nothing.
    const again = idplane(dir, ['plan', '--detailed-exitcode']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('No changes.');
  });

  it('refuses a plan file that is not a plan, and one an older idplane wrote', async () => {
    const bogus = join(dir, 'bogus.json');
    await writeFile(bogus, '{"t":"plan","v":{"format_version":"2"}}\n');
    const r = idplane(dir, ['apply', bogus]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('is not a valid plan: line 1:');
    const old = join(dir, 'old.json');
    await writeFile(old, '{"format_version":"1","users":[]}');
    const o = idplane(dir, ['apply', old]);
    expect(o.code).toBe(1);
    expect(o.stderr).toContain('has plan format "1", from an older idplane; this idplane reads format 2. Run idplane plan again');
    expect(idplane(dir, ['state', 'list']).stdout).toContain('The directory is empty');
  });
});

describe('safety', () => {
  it('refuses to apply without a terminal unless --auto-approve, before printing the plan, writing nothing', () => {
    const r = idplane(dir, ['apply']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(''); // not a whole plan first (a million users' worth) and then the refusal
    expect(r.stderr).toBe('Error: apply needs confirmation, but there is no terminal to ask on: pass --auto-approve, or apply a saved plan with `idplane apply PLANFILE`\n');
    expect(idplane(dir, ['state', 'list']).stdout).toContain('The directory is empty');
  });

  it('fails fast when another run holds the lock, naming the holder', async () => {
    const { mkdir } = await import('node:fs/promises');
    await mkdir(join(dir, '.idplane'), { recursive: true });
    const holder = { id: 'lock-123', operation: 'apply', who: 'alice', host: hostname(), pid: process.pid, created: new Date().toISOString() };
    await writeFile(join(dir, '.idplane/lock.json'), JSON.stringify(holder));
    const r = idplane(dir, ['apply', '--auto-approve']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('locked by alice@');
    expect(r.stderr).toContain('idplane force-unlock lock-123');
  });

  it('refuses a plan with conflicts (a duplicate employee id), and plan exits 3 on it so CI fails', async () => {
    await editCsv((t) => t.replace(/^1005,/m, '1004,'));
    const p = idplane(dir, ['plan']);
    expect(p.code).toBe(3);
    expect(p.stdout).toContain('Conflicts (1)');
    expect(p.stdout).toContain('key "1004" appears on 2 rows');
    expect(p.stdout).toContain('This plan cannot be applied');
    expect(idplane(dir, ['plan', '--detailed-exitcode']).code).toBe(3);
    expect(idplane(dir, ['plan', '--format', 'json']).code).toBe(3);
    const a = idplane(dir, ['apply', '--auto-approve']);
    expect(a.code).toBe(3);
    expect(a.stderr).toContain('the plan cannot be applied');
  });

  it('validate names a misspelt column where it is written; plan and apply stop at that one error, not a conflict per row', async () => {
    const config = join(dir, 'idplane.yaml');
    await writeFile(config, (await readFile(config, 'utf8')).replace('title: app.title', 'title: app.titel'));
    const error = 'idplane.yaml:58:20: error: hr has no column "titel" (data/hr.csv has: employee_id, first_name, last_name, work_email, department, title, employment_type, status, start_date, manager_id, phone); did you mean "title"? (/apps/hr/import/mappings/title)';
    const v = idplane(dir, ['validate']);
    expect(v.code).toBe(1);
    expect(v.stderr).toContain(error);
    for (const args of [['plan'], ['apply', '--auto-approve']]) {
      const p = idplane(dir, args);
      expect(p.code).toBe(1);
      expect(p.stdout).toBe('');
      expect(p.stderr.split('\n')).toEqual([expect.stringMatching(/idplane\.yaml:58:20: error: /), 'Error: the configuration has 1 error(s)', '']);
      expect(p.stderr).toContain(error);
    }
    expect(idplane(dir, ['state', 'list']).stdout).toContain('The directory is empty');
  });

  it('validate warns, and still passes, when a CSV source is not there yet to check', async () => {
    const { rm } = await import('node:fs/promises');
    await rm(hrCsv());
    const v = idplane(dir, ['validate']);
    expect(v.code).toBe(0);
    expect(v.stderr).toMatch(/idplane\.yaml:\d+:\d+: warning: cannot check hr's columns: .*no such file/);
  });

  it('exits 3 on a plan that trips a safeguard, 0 once it is applied with --allow-mass-change', async () => {
    expect(idplane(dir, ['apply', '--auto-approve']).code).toBe(0);
    await editCsv((t) => t.split('\n').filter((line, i) => i === 0 || i > 20 || line === '').join('\n')); // 20 of 50 rows gone
    const p = idplane(dir, ['plan', '--detailed-exitcode']);
    expect(p.stdout).toMatch(/safeguard/i);
    expect(p.code).toBe(3);
    expect(idplane(dir, ['apply', '--auto-approve']).code).toBe(3);
    expect(idplane(dir, ['apply', '--auto-approve', '--allow-mass-change']).code).toBe(0);
    expect(idplane(dir, ['plan', '--detailed-exitcode']).code).toBe(0);
  });

  it('imports the other rows when one CSV row is malformed, and never counts it missing', async () => {
    expect(idplane(dir, ['apply', '--auto-approve']).code).toBe(0);
    await editCsv((t) => t.replace(/^(1004,[^\n]*)$/m, '$1,unexpected-extra-field'));
    const p = idplane(dir, ['plan', '--detailed-exitcode']);
    expect(p.stdout).toMatch(/hr key 1004: line 5: wrong number of fields/);
    expect(p.stdout).not.toContain('deactivate:');
    // Nothing changes, yet the plan does not claim the directory matches hr: a nightly job sees 2.
    expect(p.stdout).toContain('No changes, but rows of a source could not be read');
    expect(p.code).toBe(2);
  });
});

describe('machine output', () => {
  it('--format json writes one JSON document to stdout and nothing else', () => {
    const r = idplane(dir, ['plan', '--format', 'json']);
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout);
    expect(plan.format_version).toBe('2');
    expect(plan.summary.users.create).toBe(51);
    expect(plan.users).toHaveLength(51);
    expect(r.stderr).toBe('');
  });

  it('reports errors as JSON on stderr in json mode, stdout stays empty', () => {
    const r = idplane(join(dir, 'nope'), ['plan', '--format', 'json']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    const error = JSON.parse(r.stderr).error;
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.problems[0].message).toContain('cannot read');
  });

  it('reports argument errors in json mode too', () => {
    const r = idplane(dir, ['plan', '--format', 'json', '--bogus']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stderr).error.code).toBe('USAGE');
  });
});

describe('config errors', () => {
  it('lists every problem with file:line:col and exits 1', async () => {
    const config = join(dir, 'idplane.yaml');
    const text = (await readFile(config, 'utf8'))
      .replace('profileSources: [hr]', 'profileSources: [hr, workday]')
      .replace('onNoMatch: create', 'onNoMatch: creat')
      .replace('title: app.title', 'titel: app.title');
    await writeFile(config, text);
    const r = idplane(dir, ['validate']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/idplane\.yaml:\d+:\d+: error: .*"creat"; did you mean "create"\?/);
    expect(r.stdout).toBe('');
  });

  it('says where the config is missing and how to point at it', () => {
    const r = idplane(join(dir, 'missing'), ['plan']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('idplane.yaml: error: cannot read');
    expect(r.stderr).toContain('-C DIR');
  });
});

describe('idplane jit', () => {
  const zoe = { employee_id: '1004', first_name: 'Zoë', last_name: 'Müller', work_email: 'zoe.muller@example.com', department: 'Engineering', title: 'Staff Software Engineer', employment_type: 'Employee', status: 'Active', start_date: '2017-06-05', manager_id: '1003', phone: '+1 415 555 0104' };

  it('creates a new user at once, and updates (never duplicates) an account an import linked', () => {
    expect(idplane(dir, ['apply', '--auto-approve']).code).toBe(0);
    const created = idplane(dir, ['jit', 'hr', '--format', 'json'], { input: JSON.stringify({ ...zoe, employee_id: 2001, first_name: 'Nia', last_name: 'Long', work_email: 'nia.long@example.com' }) });
    expect(created.code).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ action: 'create', login: 'nia.long@example.com', user: { status: 'ACTIVE', profile: { employeeNumber: '2001' } } });

    const updated = idplane(dir, ['jit', 'hr'], { input: JSON.stringify({ ...zoe, title: 'CTO' }) });
    expect(updated.code).toBe(0);
    expect(updated.stdout).toContain('~ title = "Staff Software Engineer" → "CTO"');
    expect(updated.stdout).toContain('jit: hr/1004 → zoe.muller@example.com: update done');
    const list = JSON.parse(idplane(dir, ['state', 'list', '--format', 'json']).stdout);
    expect(list.users.filter((u: { login: string }) => u.login === 'zoe.muller@example.com')).toHaveLength(1);
    expect(list.users).toHaveLength(52);

    const again = idplane(dir, ['jit', 'hr'], { input: JSON.stringify({ ...zoe, title: 'CTO' }) });
    expect(again.stdout).toContain('no change');
  });

  it('refuses bad input with a clear message', () => {
    const notJson = idplane(dir, ['jit', 'hr'], { input: '{nope' });
    expect(notJson.code).toBe(1);
    expect(notJson.stderr).toContain('hr: stdin is not JSON');
    const noKey = idplane(dir, ['jit', 'hr'], { input: JSON.stringify({ first_name: 'X' }) });
    expect(noKey.stderr).toContain('no value for its key attribute "employee_id"');
    const noApp = idplane(dir, ['jit', 'workday'], { input: '{}' });
    expect(noApp.stderr).toContain('"workday" is not one (import apps: hr)');
  });
});

describe('apply --format json', () => {
  it('writes exactly one JSON document, also when it plans itself', () => {
    const first = idplane(dir, ['apply', '--auto-approve', '--format', 'json']);
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ applied: true, summary: { users: { create: 51 } } });
    const again = idplane(dir, ['apply', '--auto-approve', '--format', 'json']);
    expect(JSON.parse(again.stdout)).toMatchObject({ applied: false });
  });
});

describe('plan --format markdown', () => {
  it('puts counts and deactivations first, details collapsed, and masks personal data unless asked', async () => {
    expect(idplane(dir, ['apply', '--auto-approve']).code).toBe(0);
    await editCsv((t) => t.replace(/^(1004,.*),Active,/m, '$1,Terminated,').replace('Chief Technology Officer', 'CTO').replace('+1 415 555 0102', '+1 415 555 0199'));
    const md = idplane(dir, ['plan', '--format', 'markdown']);
    expect(md.code).toBe(0);
    expect(md.stdout.indexOf('**1 user(s) will be deactivated')).toBeLessThan(md.stdout.indexOf('<details>'));
    expect(md.stdout).toContain('| users | 0 | 1 | 0 | 1 | 0 | 0 |');
    // Users as stable short tags: told apart, not named.
    const zoe = /- \*\*deactivate\*\* `(#[0-9a-f]{8})` \(ACTIVE → DEPROVISIONED\)/.exec(md.stdout)?.[1];
    const lars = /- \*\*update\*\* `(#[0-9a-f]{8})`/.exec(md.stdout)?.[1];
    expect(zoe).toBeDefined();
    expect(lars).toBeDefined();
    expect(zoe).not.toBe(lars);
    expect(idplane(dir, ['plan', '--format', 'markdown']).stdout).toContain(`\`${zoe}\` (ACTIVE → DEPROVISIONED)`);
    // A title is reviewable; a phone number is not shown.
    expect(md.stdout).toContain('  - `title`: `"Chief Technology Officer"` → `"CTO"`');
    expect(md.stdout).toContain('  - `mobilePhone`: `•••` → `•••`');
    for (const personal of ['zoe.muller', 'Zoë', 'lars', 'Østergaard', '555 0102', '555 0199']) expect(md.stdout).not.toContain(personal);
    const full = idplane(dir, ['plan', '--format', 'markdown', '--show-personal-data']);
    expect(full.stdout).toContain('- **deactivate** zoe.muller@example.com (ACTIVE → DEPROVISIONED)');
    expect(full.stdout).toContain('  - `mobilePhone`: `"+1 415 555 0102"` → `"+1 415 555 0199"`');
  });

  it('masks per attribute as the config says', async () => {
    expect(idplane(dir, ['apply', '--auto-approve']).code).toBe(0);
    const config = join(dir, 'idplane.yaml');
    await writeFile(config, (await readFile(config, 'utf8'))
      .replace('title:          { type: string }', 'title:          { type: string, sensitive: true }')
      .replace('mobilePhone:    { type: string }', 'mobilePhone:    { type: string, sensitive: false }'));
    await editCsv((t) => t.replace('Chief Technology Officer', 'CTO').replace('+1 415 555 0102', '+1 415 555 0199'));
    const md = idplane(dir, ['plan', '--format', 'markdown']);
    expect(md.stdout).toContain('  - `title`: `•••` → `•••`');
    expect(md.stdout).toContain('  - `mobilePhone`: `"+1 415 555 0102"` → `"+1 415 555 0199"`');
    // A saved plan carries the choice: show renders it the same without the config.
    const file = join(dir, 'p.plan');
    expect(idplane(dir, ['plan', '--out', file]).code).toBe(0);
    expect(idplane(dir, ['show', file, '--format', 'markdown']).stdout).toContain('  - `title`: `•••` → `•••`');
  });
});
