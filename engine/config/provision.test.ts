/**
 * The `provision:` section: compilation into a CompiledProvision, its semantic errors (with positions) and
 * the validate-time warnings for the three write-back hazards of the profile-sourcing seed.
 */
import { describe, expect, it } from 'vitest';
import { formatProblem, type ConfigProblem } from './problems.ts';
import { MINIMAL, problemAt, validate, validationProblems, yaml } from './test-helpers.ts';

function where(p: ConfigProblem): string {
  return `${p.file}:${p.line}:${p.col}`;
}

async function validOutcome(text: string) {
  const outcome = await validate({ 'idplane.yaml': text });
  if (!outcome.ok) throw new Error(outcome.problems.map(formatProblem).join('\n'));
  return outcome;
}

/** MINIMAL (18 lines, app hr importing) plus a crm target from line 19 on. */
function withCrm(...provision: string[]): string {
  return MINIMAL + yaml(
    '  crm:', //                             19
    '    provider: csv', //                  20
    '    connection: { path: crm.csv }', //  21
    '    key: Username', //                  22
    '    provision:', //                     23
    ...provision, //                         24…
  );
}

describe('provision: compiles', () => {
  it('compiles every option, expression and apply mode', async () => {
    const outcome = await validOutcome(withCrm(
      "      assign: 'user.firstName == \"Ada\"'",
      '      create: false',
      '      update: false',
      '      deactivate: false',
      '      delete: true',
      '      match: { app: Email, user: email }',
      '      status: { attribute: IsActive, enabled: "yes", disabled: "no" }',
      '      mappings:',
      '        Username: user.email',
      "        Alias: { value: 'user.firstName.substring(0, 1)', on: create }",
      '        Email: { value: user.email, on: always }',
      '        Nick: { value: user.login }',
    ));
    expect(outcome.warnings).toEqual([]);
    const crm = outcome.project.apps.crm!;
    expect(crm.import).toBeNull();
    expect(crm.key).toBe('Username');
    const p = crm.provision!;
    expect(p).toMatchObject({
      create: false, update: false, deactivate: false, delete: true,
      match: { app: 'Email', user: 'email' },
      status: { attribute: 'IsActive', enabled: 'yes', disabled: 'no' },
    });
    expect(p.sourcedAttributes).toEqual(new Set());
    expect(p.mappings.map((m) => [m.attribute, m.expression.text, m.on])).toEqual([
      ['Username', 'user.email', 'always'],
      ['Alias', 'user.firstName.substring(0, 1)', 'create'],
      ['Email', 'user.email', 'always'],
      ['Nick', 'user.login', 'always'],
    ]);
    const user = { email: 'ada@example.com', firstName: 'Ada', login: 'ada' };
    expect(p.mappings.map((m) => m.expression.evaluate({ user }))).toEqual(['ada@example.com', 'A', 'ada@example.com', 'ada']);
    expect(p.assign!.evaluate({ user })).toBe(true);
    expect(p.assign!.evaluate({ user: { ...user, firstName: 'Alan' } })).toBe(false);
    expect(outcome.project.apps.hr!.provision).toBeNull();
  });

  it('fills in the defaults: everyone assigned, create/update/deactivate on, delete off, status active true/false', async () => {
    const outcome = await validOutcome(withCrm('      mappings:', '        Username: user.email'));
    expect(outcome.project.apps.crm!.provision).toMatchObject({
      assign: null, create: true, update: true, deactivate: true, delete: false, match: null,
      status: { attribute: 'active', enabled: 'true', disabled: 'false' },
    });
  });

  it('assign: true assigns everyone', async () => {
    const outcome = await validOutcome(withCrm('      assign: true', '      mappings:', '        Username: user.email'));
    expect(outcome.project.apps.crm!.provision!.assign).toBeNull();
  });

  it('is not a profile source: a target without import stays out of profileSources', async () => {
    const outcome = await validOutcome(withCrm('      mappings:', '        Username: user.email'));
    expect(outcome.project.profileSources).toEqual(['hr']);
  });
});

describe('provision: errors', () => {
  it('the key must be mapped, reported at the mappings with its position', async () => {
    const problems = await validationProblems({ 'idplane.yaml': withCrm('      mappings:', '        Email: user.email') });
    const p = problemAt(problems, '/apps/crm/provision/mappings');
    expect(p.severity).toBe('error');
    expect(where(p)).toBe('idplane.yaml:25:9');
    expect(p.message).toBe('provision.mappings must map the key "Username": it names each account crm creates');
    expect(problems).toHaveLength(1);
  });

  it('a misspelt key is reported at the key, with the mapping it probably meant', async () => {
    const problems = await validationProblems({ 'idplane.yaml': withCrm('      mappings:', '        Usernme: user.email', '        Email: user.email') });
    expect(problems.map(formatProblem)).toHaveLength(1);
    const p = problemAt(problems, '/apps/crm/key');
    expect(where(p)).toBe('idplane.yaml:22:10');
    expect(p.message).toBe('key "Username" is not an attribute provision.mappings writes (it writes Usernme, Email); did you mean "Usernme"? The key names each account crm creates, so provision.mappings must map it');
  });

  it('the default key id must be mapped when the app names no key', async () => {
    const text = MINIMAL + yaml(
      '  wiki:', //                              19
      '    provider: csv', //                    20
      '    connection: { path: wiki.csv }', //   21
      '    provision: { mappings: { name: user.login } }', // 22
    );
    const p = problemAt(await validationProblems({ 'idplane.yaml': text }), '/apps/wiki/provision/mappings');
    expect(where(p)).toBe('idplane.yaml:22:28');
    expect(p.message).toBe('provision.mappings must map the key "id" (the default key of a csv app; set key: to name another): it names each account wiki creates');
  });

  it('match.user must be a directory attribute (login is allowed)', async () => {
    const problems = await validationProblems({ 'idplane.yaml': withCrm('      match: { app: Email, user: mail }', '      mappings:', '        Username: user.email') });
    const p = problemAt(problems, '/apps/crm/provision/match/user');
    expect(where(p)).toBe('idplane.yaml:24:34');
    expect(p.message).toBe('"mail" is not a directory attribute');
    expect(problems).toHaveLength(1);
    await validOutcome(withCrm('      match: { app: Username, user: login }', '      mappings:', '        Username: user.email'));
  });

  it('assign: false is an error', async () => {
    const problems = await validationProblems({ 'idplane.yaml': withCrm('      assign: false', '      mappings:', '        Username: user.email') });
    const p = problemAt(problems, '/apps/crm/provision/assign');
    expect(where(p)).toBe('idplane.yaml:24:15');
    expect(p.message).toContain('remove the provision: section instead');
  });

  it('an outbound expression that does not compile is reported inside the expression, in both forms', async () => {
    const problems = await validationProblems({
      'idplane.yaml': withCrm(
        "      assign: 'user.dept =='", //                          24
        '      mappings:', //                                       25
        '        Username: user.email +', //                        26
        "        Alias: { value: 'nope.firstName', on: create }", // 27
      ),
    });
    expect(problems.map((p) => p.pointer)).toEqual(['/apps/crm/provision/assign', '/apps/crm/provision/mappings/Username', '/apps/crm/provision/mappings/Alias/value']);
    expect(problems.map((p) => p.line)).toEqual([24, 26, 27]);
    expect(problems[2]!.message).toContain('Unknown variable: nope');
    expect(where(problems[2]!)).toBe('idplane.yaml:27:26');
  });

  it('the schema rejects an unknown apply mode', async () => {
    const problems = await validationProblems({ 'idplane.yaml': withCrm('      mappings:', '        Username: { value: user.email, on: update }') });
    expect(problems.some((p) => p.pointer === '/apps/crm/provision/mappings/Username/on')).toBe(true);
  });
});

/**
 * hr is the highest-priority profile source and gets a write-back. Lines:
 * 19 provision: / 21 mappings: (the warnings point at its value: line 22, column 9).
 */
function writeBack(...mappings: string[]): string {
  return yaml(
    'version: 1', //                                          1
    'directory:', //                                          2
    '  attributes:', //                                       3
    '    login: { type: string, required: true }', //         4
    '    email: { type: string }', //                         5
    '    firstName: { type: string }', //                     6
    '    employeeNumber: { type: string }', //                7
    '    badgeId: { type: string, source: badges }', //       8
    'profileSources: [hr, badges]', //                        9
    'apps:', //                                               10
    '  hr:', //                                               11
    '    provider: csv', //                                   12
    '    connection: { path: hr.csv }', //                    13
    '    key: employee_id', //                                14
    '    import:', //                                         15
    "      disabled: 'app.status == \"Terminated\"'", //      16
    '      match: [{ app: work_email, user: email }]', //     17
    '      mappings: { login: app.work_email, email: app.work_email, firstName: app.first_name, employeeNumber: app.employee_id }', // 18
    '    provision:', //                                      19
    '      create: false', //                                 20
    '      mappings:', //                                     21
    '        employee_id: user.employeeNumber', //            22
    ...mappings,
    '  badges:',
    '    provider: csv',
    '    connection: { path: badges.csv }',
    '    key: badge',
    '    import:',
    '      match: [{ app: employee_id, user: employeeNumber }]',
    '      onNoMatch: ignore',
    '      mappings: { badgeId: app.badge }',
  );
}

describe('provision: write-back warnings in validate', () => {
  it('names the attributes of each hazard: race, unwanted push, another source\'s attributes', async () => {
    const outcome = await validOutcome(writeBack(
      '        work_email: user.email',
      '        first_name: user.firstName',
      '        it_login: user.login',
      '        badge: user.badgeId',
      '        status: \'user.login == "" ? "x" : "Active"\'',
    ));
    expect(outcome.warnings.map((w) => [w.severity, where(w), w.pointer])).toEqual([
      ['warning', 'idplane.yaml:22:9', '/apps/hr/provision/mappings'],
      ['warning', 'idplane.yaml:22:9', '/apps/hr/provision/mappings'],
      ['warning', 'idplane.yaml:22:9', '/apps/hr/provision/mappings'],
    ]);
    const [race, unread, foreign] = outcome.warnings.map((w) => w.message) as [string, string, string];
    expect(race).toBe('write-back race: hr is a profile source and sources work_email, first_name, status, which provision.mappings also writes; idplane never writes attributes the app sources, so these mappings have no effect');
    expect(unread).toContain('write-back pushes it_login, badge into hr, a profile source whose import never reads them back');
    expect(foreign).toBe('write-back to hr pushes values built from attributes another source owns: badgeId (sourced by badges); hr\'s own copies of them are overwritten');
    // The sourced set the plan uses: everything hr's import reads (key, mappings, disabled, match rules).
    expect(outcome.project.apps.hr!.provision!.sourcedAttributes).toEqual(new Set(['employee_id', 'work_email', 'first_name', 'status']));
  });

  it('gives only the warnings that apply', async () => {
    const onlyUnread = await validOutcome(writeBack('        it_login: user.login'));
    expect(onlyUnread.warnings.map((w) => w.message)).toEqual([
      expect.stringContaining('write-back pushes it_login into hr'),
    ]);
    const onlyRace = await validOutcome(writeBack('        first_name: user.firstName'));
    expect(onlyRace.warnings.map((w) => w.message)).toEqual([expect.stringContaining('write-back race: hr is a profile source and sources first_name,')]);
    const none = await validOutcome(writeBack());
    expect(none.warnings).toEqual([]);
  });

  it('a lower-priority source\'s write-back overwrites what the higher one sources', async () => {
    const text = writeBack('        it_login: user.login').replace('profileSources: [hr, badges]', 'profileSources: [badges, hr]');
    const outcome = await validOutcome(text);
    const foreign = outcome.warnings.filter((w) => w.message.includes('another source owns'));
    expect(foreign).toHaveLength(1);
    expect(foreign[0]!.message).toContain('login (sourced by badges)');
  });

  it('sees another source\'s attribute read through user.?x', async () => {
    const outcome = await validOutcome(writeBack("        badge: 'user.?badgeId.orValue(\"\")'"));
    expect(outcome.warnings.map((w) => w.message)).toContainEqual(expect.stringContaining('another source owns: badgeId (sourced by badges)'));
  });

  it('an attribute with source: directory is not another source\'s', async () => {
    const text = writeBack('        badge: user.badgeId').replace('badgeId: { type: string, source: badges }', 'badgeId: { type: string, source: directory }');
    const outcome = await validOutcome(text);
    // (badges' own mapping of badgeId is now ignored, which validate says too.)
    expect(outcome.warnings.map((w) => w.message).sort()).toEqual([expect.stringContaining('badges maps badgeId, but badgeId is declared source: directory'), expect.stringContaining('write-back pushes badge into hr')]);
  });

  it('sees attributes the import reads through has(), index and optional syntax', async () => {
    const text = writeBack(
      '        middle: user.firstName',
      '        nick: user.firstName',
      '        phone: user.firstName',
      '        room: user.firstName',
    ).replace(
      'firstName: app.first_name,',
      'firstName: \'has(app.middle) ? app["nick"] : app.?phone.orValue(app[?"room"].orValue(""))\',',
    );
    expect(text).toContain('app.?phone');
    const outcome = await validOutcome(text);
    expect(outcome.project.apps.hr!.provision!.sourcedAttributes).toEqual(new Set(['employee_id', 'work_email', 'status', 'middle', 'nick', 'phone', 'room']));
    expect(outcome.warnings.map((w) => w.message)).toEqual([expect.stringContaining('sources middle, nick, phone, room,')]);
  });

  it('a plain target (no import) gives no warnings, whatever it maps', async () => {
    const text = MINIMAL.replace('    email: { type: string }', '    email: { type: string }\n    badgeId: { type: string, source: badges }') + yaml(
      '  badges:',
      '    provider: csv',
      '    connection: { path: badges.csv }',
      '    key: badge',
      '    import:',
      '      match: [{ app: employee_id, user: email }]',
      '      onNoMatch: ignore',
      '      mappings: { badgeId: app.badge }',
      '  crm:',
      '    provider: csv',
      '    connection: { path: crm.csv }',
      '    key: Username',
      '    provision:',
      '      mappings: { Username: user.email, FirstName: user.firstName, Badge: user.badgeId }',
      'profileSources: [hr, badges]',
    );
    const outcome = await validOutcome(text);
    expect(outcome.warnings).toEqual([]);
    expect(outcome.project.apps.crm!.provision!.sourcedAttributes).toEqual(new Set());
  });
});
