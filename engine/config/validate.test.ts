import { describe, expect, it } from 'vitest';
import { formatProblem, type ConfigProblem } from './problems.ts';
import { MINIMAL, problemAt, validate, validationProblems, yaml } from './test-helpers.ts';

/** MINIMAL with its line 18 (`        firstName: app.first_name`) replaced by `lines`. */
function withFirstName(...lines: string[]): string {
  const text = MINIMAL.replace('        firstName: app.first_name\n', yaml(...lines));
  expect(text).not.toBe(MINIMAL);
  return text;
}

/** MINIMAL with `lines` inserted before line 15 (`      mappings:`), inside hr's import section. */
function inImport(...lines: string[]): string {
  return MINIMAL.replace('      mappings:\n', yaml(...lines, '      mappings:'));
}

function where(p: ConfigProblem): string {
  return `${p.file}:${p.line}:${p.col}`;
}

/** Exactly one problem; returns it. */
function only(problems: ConfigProblem[]): ConfigProblem {
  expect(problems.map(formatProblem)).toHaveLength(1);
  return problems[0]!;
}

describe('validateConfig: a valid config', () => {
  it('validates the minimal config and compiles its mappings into a Project', async () => {
    const outcome = await validate({ 'idplane.yaml': MINIMAL });
    if (!outcome.ok) throw new Error(outcome.problems.map(formatProblem).join('\n'));
    expect(outcome.warnings).toEqual([]);
    expect(outcome.config.version).toBe(1);

    const { project } = outcome;
    expect(Object.keys(project.attributes)).toEqual(['login', 'email', 'firstName']);
    expect(project.profileSources).toEqual(['hr']); // defaults to the import apps
    expect(project.protectRoles).toEqual(['super_admin']);
    expect(project.declaredUsers).toEqual([]);
    expect(project.links).toEqual([]);

    const hr = project.apps.hr!;
    expect(hr.name).toBe('hr');
    expect(hr.key).toBe('employee_id');
    expect(hr.import).toMatchObject({
      mode: 'full', onMatch: 'link', onNoMatch: 'create', newUserStatus: 'STAGED', disabled: null,
      onDisabled: 'deactivate', onMissing: 'deactivate', reactivate: { suspended: true, deactivated: false },
      match: [{ id: 'hr#0', label: 'work_email = user.email', partial: false, userAttributes: ['email'] }],
    });
    expect(hr.import!.match[0]!.accountKey({ work_email: 'zoe@example.com' })).toBe('zoe@example.com');
    expect(hr.import!.mappings.map((m) => [m.attribute, m.expression.text])).toEqual([
      ['login', 'app.work_email'],
      ['email', 'app.work_email'],
      ['firstName', 'app.first_name'],
    ]);
    const row = { work_email: 'zoe@example.com', first_name: 'Zoë' };
    expect(hr.import!.mappings.map((m) => m.expression.evaluate({ app: row }))).toEqual(['zoe@example.com', 'zoe@example.com', 'Zoë']);
  });

  it('compiles disabled:, keeps the import options and an app without import', async () => {
    const outcome = await validate({
      'idplane.yaml': inImport(
        '      onNoMatch: review',
        '      newUserStatus: ACTIVE',
        "      disabled: 'app.status == \"Terminated\"'",
        '      reactivate: { deactivated: true }',
      ) + yaml(
        '  crm:',
        '    provider: csv',
        '    connection: { path: crm.csv }',
        'profileSources: [hr]',
      ),
    });
    if (!outcome.ok) throw new Error(outcome.problems.map(formatProblem).join('\n'));
    const hr = outcome.project.apps.hr!.import!;
    expect(hr).toMatchObject({ onNoMatch: 'review', newUserStatus: 'ACTIVE', reactivate: { suspended: true, deactivated: true } });
    expect(hr.disabled!.evaluate({ app: { status: 'Terminated' } })).toBe(true);
    expect(hr.disabled!.evaluate({ app: { status: 'Active' } })).toBe(false);
    expect(outcome.project.apps.crm).toMatchObject({ name: 'crm', key: 'id', import: null });
  });

  it('validates the quickstart example', async () => {
    const { readFile } = await import('node:fs/promises');
    const text = await readFile(new URL('../../examples/quickstart/idplane.yaml', import.meta.url), 'utf8');
    const outcome = await validate({ 'idplane.yaml': text });
    expect(outcome.ok ? [] : outcome.problems.map(formatProblem)).toEqual([]);
  });
});

describe('validateConfig: schema errors', () => {
  it('reports all schema errors at once, each with file:line:col and pointer', async () => {
    const problems = await validationProblems({
      'idplane.yaml': yaml(
        'version: 2', //                                    1
        'directory:', //                                    2
        '  attributes:', //                                 3
        '    login: { type: strin }', //                    4
        'apps:', //                                         5
        '  hr:', //                                         6
        '    provider: csv', //                             7
        '    connection: { path: hr.csv, trim: yes }', //   8
      ),
    });
    expect(problems.map((p) => [where(p), p.pointer])).toEqual([
      ['idplane.yaml:1:10', '/version'],
      ['idplane.yaml:4:20', '/directory/attributes/login/type'],
      ['idplane.yaml:8:39', '/apps/hr/connection/trim'],
    ]);
    expect(problems[0]!.message).toBe('version must be 1');
    expect(problems[1]!.message).toContain('directory.attributes.login.type must be one of "string", "integer"');
    expect(problems[1]!.message).toContain('got "strin"; did you mean "string"?');
    expect(problems[2]!.message).toBe('apps.hr.connection.trim must be boolean');
    for (const p of problems) expect(p.severity).toBe('error');
    expect(formatProblem(problems[0]!)).toBe('idplane.yaml:1:10: error: version must be 1 (/version)');
  });

  it('reports missing required keys', async () => {
    const problems = await validationProblems({ 'idplane.yaml': yaml('version: 1', 'directory:', '  attributes: {}') });
    expect(problems.map((p) => [where(p), p.pointer, p.message])).toEqual([
      ['idplane.yaml:1:1', '', 'the config is missing the required key "apps"'],
      ['idplane.yaml:3:15', '/directory/attributes', 'directory.attributes is missing the required key "login"'],
    ]);
  });

  it('suggests "profileSources" for a misspelled top-level key, pointing at the key', async () => {
    const p = only(await validationProblems({ 'idplane.yaml': MINIMAL + 'profileSource: [hr]\n' }));
    expect(where(p)).toBe('idplane.yaml:19:1');
    expect(p.pointer).toBe('/profileSource');
    expect(p.message).toContain('unknown key "profileSource" in the config');
    expect(p.message).toContain('did you mean "profileSources"?');
  });

  it('suggests "mappings" for `mapings:` inside import', async () => {
    // Regression: inside a $ref'd definition the hint was computed from the root's keys.
    const problems = await validationProblems({ 'idplane.yaml': MINIMAL.replace('      mappings:', '      mapings:') });
    const unknown = problemAt(problems, '/apps/hr/import/mapings');
    expect(where(unknown)).toBe('idplane.yaml:15:7');
    expect(unknown.message).toContain('unknown key "mapings" in apps.hr.import; did you mean "mappings"?');
    const missing = problemAt(problems, '/apps/hr/import');
    expect(where(missing)).toBe('idplane.yaml:13:7');
    expect(missing.message).toBe('apps.hr.import is missing the required key "mappings"');
    expect(problems).toHaveLength(2);
  });

  it.each([
    ['directory.protect', MINIMAL.replace('apps:\n', '  protect: { rolez: [admin] }\napps:\n'), '/directory/protect/rolez', 'idplane.yaml:7:14', 'roles'],
    ['import.reactivate', inImport('      reactivate: { suspend: false }'), '/apps/hr/import/reactivate/suspend', 'idplane.yaml:15:21', 'suspended'],
    ['a connection', MINIMAL.replace('{ path: hr.csv }', '{ path: hr.csv, delimeter: ";" }'), '/apps/hr/connection/delimeter', 'idplane.yaml:10:33', 'delimiter'],
    ['a declared user', MINIMAL + 'users:\n  - { login: a@example.com, rols: [admin] }\n', '/users/0/rols', 'idplane.yaml:20:29', 'roles'],
  ])('suggests the right key for a misspelling in %s', async (_, text, pointer, at, suggestion) => {
    const p = only(await validationProblems({ 'idplane.yaml': text }));
    expect(p.pointer).toBe(pointer);
    expect(where(p)).toBe(at);
    expect(p.message).toContain(`did you mean "${suggestion}"?`);
  });

  it('lists the allowed keys when no key is close', async () => {
    const p = only(await validationProblems({ 'idplane.yaml': inImport('      reactivate: { zzz: true }') }));
    expect(p.message).toBe('unknown key "zzz" in apps.hr.import.reactivate (allowed: suspended, deactivated)');
  });

  it('suggests "create" for the enum value `onNoMatch: creat`', async () => {
    const p = only(await validationProblems({ 'idplane.yaml': inImport('      onNoMatch: creat') }));
    expect(where(p)).toBe('idplane.yaml:15:18');
    expect(p.pointer).toBe('/apps/hr/import/onNoMatch');
    expect(p.message).toBe('apps.hr.import.onNoMatch must be one of "create", "review", "ignore"; got "creat"; did you mean "create"?');
  });

  it('says a safeguard threshold that is neither a count nor a percentage once, with what it must be', async () => {
    for (const [value, shown] of [['"30 percent"', '"30 percent"'], ['-5', '-5'], ['"120%"', '"120%"']] as const) {
      const p = only(await validationProblems({ 'idplane.yaml': `${MINIMAL}safeguards: { deactivateUsers: ${value} }\n` }));
      expect(p.pointer).toBe('/safeguards/deactivateUsers');
      expect(p.message).toBe(`safeguards.deactivateUsers must be a count (10) or a percentage of the base ("20%"); got ${shown}`);
    }
  });

  it('reports an invalid app name once, at the name, without dumping the apps', async () => {
    const problems = await validationProblems({
      'idplane.yaml': MINIMAL + yaml(
        '  HR2:', //                           19
        '    provider: csv', //                20
        '    connection: { path: x.csv }', //  21
        '  Crm:', //                           22
        '    provider: csv', //                23
        '    connection: { path: y.csv }', //  24
      ),
    });
    expect(problems.map((p) => [where(p), p.pointer, p.message])).toEqual([
      ['idplane.yaml:19:3', '/apps/HR2', 'invalid name "HR2" in apps: it must match ^[a-z][a-z0-9_-]*$'],
      ['idplane.yaml:22:3', '/apps/Crm', 'invalid name "Crm" in apps: it must match ^[a-z][a-z0-9_-]*$'],
    ]);
  });
});

describe('validateConfig: semantic checks', () => {
  it('reports an unknown app in profileSources with a suggestion', async () => {
    const p = only(await validationProblems({ 'idplane.yaml': MINIMAL + 'profileSources: [hr, hrr]\n' }));
    expect(where(p)).toBe('idplane.yaml:19:22');
    expect(p.pointer).toBe('/profileSources/1');
    expect(p.message).toBe('unknown app "hrr"; did you mean "hr"?');
  });

  it('reports a profile source without import and an import app missing from profileSources', async () => {
    const problems = await validationProblems({
      'idplane.yaml': MINIMAL + yaml(
        '  crm:', //                             19
        '    provider: csv', //                  20
        '    connection: { path: crm.csv }', //  21
        'profileSources: [crm]', //              22
      ),
    });
    expect(problems.map((p) => [where(p), p.pointer])).toEqual([
      ['idplane.yaml:12:5', '/apps/hr/import'],
      ['idplane.yaml:22:18', '/profileSources/0'],
    ]);
    expect(problems[0]!.message).toContain('app "hr" imports users but is not listed in profileSources');
    expect(problems[1]!.message).toContain('app "crm" has no import: section, so it cannot be a profile source');
  });

  it('reports an import that creates users but maps no login, and not one that only links', async () => {
    const noLogin = MINIMAL.replace('        login: app.work_email\n', '');
    const p = only(await validationProblems({ 'idplane.yaml': noLogin }));
    expect(p.pointer).toBe('/apps/hr/import/mappings');
    expect(p.message).toBe('hr creates users (onNoMatch: create) but maps no login, which every user needs: add login: app.<column> (the work email, say), or set onNoMatch: review or ignore');
    expect((await validate({ 'idplane.yaml': noLogin.replace('      match:', '      onNoMatch: ignore\n      match:') })).ok).toBe(true);
  });

  it('warns of a links: entry for an app without an import, which nothing ever reads', async () => {
    const config = MINIMAL + yaml(
      '  crm:',
      '    provider: csv',
      '    connection: { path: crm.csv }',
      '    key: id',
      '    provision:',
      '      mappings: { id: user.email }',
      'links:',
      '  - { app: crm, key: "7", user: ada@example.com }',
    );
    const outcome = await validate({ 'idplane.yaml': config });
    expect(outcome.ok).toBe(true);
    expect(outcome.ok && outcome.warnings.map((w) => [w.pointer, w.message])).toEqual([
      ['/links/0/app', 'links: pins crm/7, but crm has no import: section, so the entry is never used; a target\'s accounts are linked by its provision.match'],
    ]);
  });

  it('reports a mapping to an undeclared attribute at the mapping key', async () => {
    const p = only(await validationProblems({ 'idplane.yaml': MINIMAL + '        lastName: app.last_name\n' }));
    expect(where(p)).toBe('idplane.yaml:19:9');
    expect(p.pointer).toBe('/apps/hr/import/mappings/lastName');
    expect(p.message).toBe('"lastName" is not a directory attribute; declare it under directory.attributes (lastName: { type: string })');
  });

  it('suggests the attribute a mapping key probably meant', async () => {
    const p = only(await validationProblems({ 'idplane.yaml': MINIMAL + '        firstname: app.first_name\n' }));
    expect(where(p)).toBe('idplane.yaml:19:9');
    expect(p.message).toBe('"firstname" is not a directory attribute; did you mean "firstName"?');
  });

  it('reports a match rule naming an undeclared attribute, at its value', async () => {
    const p = only(await validationProblems({ 'idplane.yaml': MINIMAL.replace('user: email }', 'user: emails }') }));
    expect(where(p)).toBe('idplane.yaml:14:36');
    expect(p.pointer).toBe('/apps/hr/import/match/0/user');
    expect(p.message).toBe('"emails" is not a directory attribute; did you mean "email"?');
  });

  it('reports an attribute source naming an unknown app', async () => {
    const p = only(await validationProblems({ 'idplane.yaml': MINIMAL.replace('firstName: { type: string }', 'firstName: { type: string, source: hrr }') }));
    expect(where(p)).toBe('idplane.yaml:6:40');
    expect(p.pointer).toBe('/directory/attributes/firstName/source');
    expect(p.message).toBe('source "hrr" must be "directory" or an app with an import: section; did you mean "hr"?');
  });

  it('reports an attribute sourced from an app that does not map it', async () => {
    const p = only(await validationProblems({ 'idplane.yaml': MINIMAL.replace('    email: { type: string }\n', '    email: { type: string }\n    title: { source: hr }\n') }));
    expect(where(p)).toBe('idplane.yaml:6:22');
    expect(p.message).toBe('attribute title is sourced from hr, but hr has no mapping for title');
  });

  it('accepts source: directory and source: <import app with a mapping>', async () => {
    const text = MINIMAL.replace('email: { type: string }', 'email: { type: string, source: hr }').replace('firstName: { type: string }', 'firstName: { source: directory }');
    expect((await validate({ 'idplane.yaml': text })).ok).toBe(true);
  });

  it('warns that an import mapping for a source: directory attribute is ignored, where the mapping is', async () => {
    const outcome = await validate({ 'idplane.yaml': MINIMAL.replace('firstName: { type: string }', 'firstName: { type: string, source: directory }') });
    if (!outcome.ok) throw new Error(outcome.problems.map(formatProblem).join('\n'));
    const p = only(outcome.warnings);
    expect(p.severity).toBe('warning');
    expect(where(p)).toBe('idplane.yaml:18:20');
    expect(p.pointer).toBe('/apps/hr/import/mappings/firstName');
    expect(p.message).toBe('hr maps firstName, but firstName is declared source: directory (set in the directory, never by an import), so this mapping is ignored; remove it, or drop source: directory to let hr source it');
  });

  it('reports a links: entry naming an unknown app', async () => {
    const p = only(await validationProblems({
      'idplane.yaml': MINIMAL + yaml(
        'links:', //                                              19
        '  - { app: hrx, key: "1", user: a@example.com }', //    20
      ),
    }));
    expect(where(p)).toBe('idplane.yaml:20:12');
    expect(p.pointer).toBe('/links/0/app');
    expect(p.message).toBe('unknown app "hrx"; did you mean "hr"?');
  });

  it('does not take Object.prototype names for apps or attributes', async () => {
    // Regression: lookups like apps["constructor"] found Object.prototype.constructor.
    const problems = await validationProblems({
      'idplane.yaml': MINIMAL.replace('user: email }', 'user: toString }') + yaml(
        'links:', //                                                   19
        '  - { app: constructor, key: "1", user: a@example.com }', //  20
        'profileSources: [hasOwnProperty]', //                         21
      ),
    });
    expect(problems.map((p) => [where(p), p.pointer, p.message])).toEqual([
      ['idplane.yaml:12:5', '/apps/hr/import', 'app "hr" imports users but is not listed in profileSources; add it where it belongs in the priority order'],
      ['idplane.yaml:14:36', '/apps/hr/import/match/0/user', '"toString" is not a directory attribute; declare it under directory.attributes (toString: { type: string })'],
      ['idplane.yaml:20:12', '/links/0/app', 'unknown app "constructor"'],
      ['idplane.yaml:21:18', '/profileSources/0', 'unknown app "hasOwnProperty"'],
    ]);
  });

  it('reports a declared user declared twice (case-insensitively) and a profile key not in the schema', async () => {
    const problems = await validationProblems({
      'idplane.yaml': MINIMAL + yaml(
        'users:', //                             19
        '  - login: a@example.com', //           20
        '  - login: b@example.com', //           21
        '    profile: { firstNam: B }', //       22
        '  - login: A@example.com', //           23
      ),
    });
    expect(problems.map((p) => [where(p), p.pointer])).toEqual([
      ['idplane.yaml:22:16', '/users/1/profile/firstNam'],
      ['idplane.yaml:23:12', '/users/2/login'],
    ]);
    expect(problems[0]!.message).toBe('"firstNam" is not a directory attribute; did you mean "firstName"?');
    expect(problems[1]!.message).toBe('declared user A@example.com is declared twice (also users[0])');
  });

  it('reports all semantic problems at once, sorted by position', async () => {
    const problems = await validationProblems({
      'idplane.yaml': MINIMAL.replace('user: email }', 'user: mail }') + yaml(
        '        title: app.title', //                                   19
        'links:', //                                                    20
        '  - { app: nope, key: "1", user: a@example.com }', //          21
        'users:', //                                                    22
        '  - login: a@example.com', //                                  23
        '  - login: a@example.com', //                                  24
      ),
    });
    expect(problems.map((p) => p.pointer)).toEqual([
      '/apps/hr/import/match/0/user',
      '/apps/hr/import/mappings/title',
      '/links/0/app',
      '/users/1/login',
    ]);
    expect(problems.map((p) => p.line)).toEqual([14, 19, 21, 24]);
  });
});

describe('validateConfig: CEL expressions', () => {
  it('points inside a plain scalar', async () => {
    //       col 20 ↓                  ↓ col 35
    //   firstName: app.first_name ) app.last_name
    const p = only(await validationProblems({ 'idplane.yaml': withFirstName('        firstName: app.first_name ) app.last_name') }));
    expect(p.pointer).toBe('/apps/hr/import/mappings/firstName');
    expect(where(p)).toBe('idplane.yaml:18:35');
    expect(p.message).toMatch(/^CEL expression does not compile at column 35: /);
    expect(p.message).toContain("Unexpected character: ')'");
  });

  it('points just past a dangling operator at the end of a plain scalar (`login: app.first_name +`)', async () => {
    const p = only(await validationProblems({ 'idplane.yaml': withFirstName('        firstName: app.first_name +') }));
    expect(where(p)).toBe('idplane.yaml:18:36'); // the + is at column 35
    expect(p.message).toContain('at column 36');
  });

  it('points inside a double-quoted scalar, after the opening quote', async () => {
    //       col 20 ↓ (the quote)         ↓ col 38
    const p = only(await validationProblems({ 'idplane.yaml': withFirstName('        firstName: "app.first_name + ) x"') }));
    expect(where(p)).toBe('idplane.yaml:18:38');
    expect(p.message).toContain('at column 38');
  });

  it('counts escapes in a double-quoted scalar as the source characters they take', async () => {
    // The value is `app.status == "Terminated" + )`; the ) is at column 52 of the line because of the two \".
    const p = only(await validationProblems({ 'idplane.yaml': withFirstName('        firstName: "app.status == \\"Terminated\\" + )"') }));
    expect(where(p)).toBe('idplane.yaml:18:52');
  });

  it("counts '' in a single-quoted scalar as two source characters", async () => {
    // The value is `app.x == 'T' + )`; the ) is at column 38.
    const p = only(await validationProblems({ 'idplane.yaml': withFirstName("        firstName: 'app.x == ''T'' + )'") }));
    expect(where(p)).toBe('idplane.yaml:18:38');
  });

  it('points at the second line of a literal block scalar', async () => {
    const p = only(await validationProblems({
      'idplane.yaml': withFirstName(
        '        firstName: |', //               18
        '          app.first_name +', //         19
        '            ) app.last_name', //        20: the ) is at column 13
      ),
    }));
    expect(where(p)).toBe('idplane.yaml:20:13');
    expect(p.pointer).toBe('/apps/hr/import/mappings/firstName');
    expect(p.message).toContain('at column 13');
  });

  it('points past the last token of a literal block scalar that ends too early', async () => {
    const p = only(await validationProblems({
      'idplane.yaml': withFirstName(
        '        firstName: |', //               18
        '          app.first_name +', //         19
        '            app.last_name +', //        20: ends at column 27
      ),
    }));
    expect(where(p)).toBe('idplane.yaml:20:28');
  });

  it('points at the right line of a folded block scalar', async () => {
    const p = only(await validationProblems({
      'idplane.yaml': withFirstName(
        '        firstName: >-', //              18
        '          app.first_name +', //         19
        '', //                                   20
        '          " " + ) app.last_name', //    21: the ) is at column 17
      ),
    }));
    expect(where(p)).toBe('idplane.yaml:21:17');
  });

  it('reports an undeclared variable (`foo.bar`) at the variable', async () => {
    const p = only(await validationProblems({ 'idplane.yaml': withFirstName('        firstName: app.first_name + foo.bar') }));
    expect(where(p)).toBe('idplane.yaml:18:37');
    expect(p.message).toMatch(/^CEL expression does not compile at column 37: Unknown variable: foo$/);

    const alone = only(await validationProblems({ 'idplane.yaml': withFirstName('        firstName: foo.bar') }));
    expect(where(alone)).toBe('idplane.yaml:18:20');
    expect(alone.message).toContain('Unknown variable: foo');
  });

  it('checks disabled: too', async () => {
    const p = only(await validationProblems({ 'idplane.yaml': inImport('      disabled: app.status ==') }));
    expect(where(p)).toBe('idplane.yaml:15:30');
    expect(p.pointer).toBe('/apps/hr/import/disabled');
  });

  it('reports every broken expression, not just the first', async () => {
    const problems = await validationProblems({
      'idplane.yaml': MINIMAL.replace('login: app.work_email', 'login: app.work_email +').replace('firstName: app.first_name', 'firstName: nope'),
    });
    expect(problems.map(where)).toEqual(['idplane.yaml:16:32', 'idplane.yaml:18:20']);
  });
});

describe('validateConfig: included files', () => {
  it('reports problems inside an included file with that file name and line', async () => {
    const problems = await validationProblems({
      'idplane.yaml': MINIMAL + 'include: [apps/crm.yaml]\n',
      'apps/crm.yaml': yaml(
        'apps:', //                                           1
        '  crm:', //                                          2
        '    provider: csv', //                               3
        '    connection: { path: crm.csv }', //               4
        '    import:', //                                     5
        '      mappings:', //                                 6
        '        login: app.mail +', //                       7: ends at column 25
        '        nickname: app.nick', //                      8
        'links:', //                                          9
        '  - { app: crn, key: "1", user: a@example.com }', // 10
      ),
    });
    expect(problems.map((p) => [where(p), p.pointer])).toEqual([
      ['apps/crm.yaml:7:26', '/apps/crm/import/mappings/login'],
      ['apps/crm.yaml:8:9', '/apps/crm/import/mappings/nickname'],
      ['apps/crm.yaml:10:12', '/links/0/app'],
    ]);
    expect(problems[1]!.message).toBe('"nickname" is not a directory attribute; declare it under directory.attributes (nickname: { type: string })');
    expect(problems[2]!.message).toBe('unknown app "crn"; did you mean "crm"?');
  });

  it('reports schema errors inside an included file with that file name and line', async () => {
    const problems = await validationProblems({
      'idplane.yaml': MINIMAL + 'include: [extra.yaml]\n',
      'extra.yaml': yaml(
        'apps:', //                                        1
        '  crm:', //                                       2
        '    provider: cvs', //                            3
        '    connection: { path: crm.csv, trm: true }', // 4
      ),
    });
    // The provider decides the connection's shape, so an unknown provider is the one problem reported.
    expect(problems.map((p) => [where(p), p.pointer])).toEqual([['extra.yaml:3:15', '/apps/crm/provider']]);
    expect(problems[0]!.message).toContain('got "cvs"; did you mean "csv"?');
  });

  it('reports connection errors of the provider the app names', async () => {
    const problems = await validationProblems({
      'idplane.yaml': MINIMAL + 'include: [extra.yaml]\n',
      'extra.yaml': yaml('apps:', '  crm:', '    provider: csv', '    connection: { path: crm.csv, trm: true }'),
    });
    expect(problems.map((p) => [where(p), p.pointer])).toEqual([['extra.yaml:4:34', '/apps/crm/connection/trm']]);
    expect(problems[0]!.message).toContain('did you mean "trim"?');
  });
});

describe('validateConfig: plan policies', () => {
  const withPolicies = (...lines: string[]) => `${MINIMAL}${yaml('policies:', ...lines)}`;

  it('compiles them, max 0 unless said', async () => {
    const outcome = await validate({ 'idplane.yaml': withPolicies('  - name: no-login-change', '    when: \'change.kind == "user" && change.action == "update" && "login" in change.attributes\'', '  - { name: few, when: "true", max: 3 }') });
    if (!outcome.ok) throw new Error(outcome.problems.map(formatProblem).join('\n'));
    expect(outcome.project.policies.map((p) => [p.name, p.max])).toEqual([['no-login-change', 0], ['few', 3]]);
  });

  it('reports a `when` that does not compile inside the expression', async () => {
    const p = only(await validationProblems({ 'idplane.yaml': withPolicies('  - name: broken', '    when: change.action == ') }));
    expect(where(p)).toBe('idplane.yaml:21:27');
    expect(p.message).toMatch(/^CEL expression does not compile at column \d+: /);
  });

  it('reports a field a change or a user does not have, with did-you-mean', async () => {
    const problems = await validationProblems({ 'idplane.yaml': withPolicies('  - name: typo', '    when: change.actoin == "deactivate" && user.firstname == "Zoe"') });
    expect(problems.map((p) => `${where(p)} ${p.message}`)).toEqual([
      'idplane.yaml:21:11 change.actoin at column 11: a change has no field "actoin" (it has kind, action, app, key, login, attributes, status, source); did you mean "action"?',
      'idplane.yaml:21:44 user.firstname at column 44: "firstname" is not a directory attribute, nor login, status or roles; did you mean "firstName"?',
    ]);
  });

  it('refuses a name used twice', async () => {
    const p = only(await validationProblems({ 'idplane.yaml': withPolicies('  - { name: a, when: "true" }', '  - { name: a, when: "false" }') }));
    expect(p.message).toBe('policy a is defined twice (also policies[0])');
  });
});

describe('validateConfig: plan.countBy', () => {
  it('names a declared attribute that is not personal data, at its place', async () => {
    const line = MINIMAL.split('\n').length; // the appended `plan:` is on the last line
    const unknown = only(await validationProblems({ 'idplane.yaml': `${MINIMAL}plan: { countBy: departmnt }\n` }));
    expect(where(unknown)).toBe(`idplane.yaml:${line}:18`);
    expect(unknown.message).toContain('"departmnt" is not a directory attribute');
    const personal = only(await validationProblems({ 'idplane.yaml': `${MINIMAL}plan: { countBy: firstName }\n` }));
    expect(personal.pointer).toBe('/plan/countBy');
    expect(personal.message).toContain('"firstName" holds personal data');
    const organisational = MINIMAL.replace('    firstName: { type: string }\n', '    firstName: { type: string }\n    department: { type: string }\n');
    expect((await validate({ 'idplane.yaml': `${organisational}plan: { countBy: department }\n` })).ok).toBe(true);
  });
});
