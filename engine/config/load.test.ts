import { describe, expect, it } from 'vitest';
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfig, MAX_CONFIG_CHARS } from './load.ts';
import { formatProblem } from './problems.ts';
import { describeProblems, load, loadOk, loadProblems, MINIMAL, problemAt, withConfigDir, yaml } from './test-helpers.ts';

/** An included file defining one more app, attribute, declared user and link (line numbers matter). */
const EXTRA = yaml(
  'apps:', //                                                   1
  '  crm:', //                                                  2
  '    provider: csv', //                                       3
  '    connection: { path: crm.csv }', //                       4
  'directory:', //                                              5
  '  attributes:', //                                           6
  '    title: { type: string }', //                             7
  'users:', //                                                  8
  '  - login: admin@example.com', //                            9
  '    profile: { title: Boss }', //                           10
  'links:', //                                                 11
  '  - { app: crm, key: "7", user: admin@example.com }', //    12
);

describe('loadConfig: the main file', () => {
  it('loads a valid minimal config', async () => {
    const config = await loadOk({ 'idplane.yaml': MINIMAL });
    expect(config.value).toEqual({
      version: 1,
      directory: { attributes: { login: { type: 'string', required: true }, email: { type: 'string' }, firstName: { type: 'string' } } },
      apps: {
        hr: {
          provider: 'csv',
          connection: { path: 'hr.csv' },
          key: 'employee_id',
          import: {
            match: [{ app: 'work_email', user: 'email' }],
            mappings: { login: 'app.work_email', email: 'app.work_email', firstName: 'app.first_name' },
          },
        },
      },
    });
    expect(config.unresolved).toEqual(config.value);
    expect(config.fromEnv.size).toBe(0);
  });

  it('locates values and keys by JSON pointer', async () => {
    const config = await loadOk({ 'idplane.yaml': MINIMAL });
    expect(config.locate('/apps/hr', true)).toEqual({ file: 'idplane.yaml', line: 8, col: 3 });
    expect(config.locate('/apps/hr/connection/path')).toEqual({ file: 'idplane.yaml', line: 10, col: 25 });
    expect(config.locate('/apps/hr/import/match/0/user')).toEqual({ file: 'idplane.yaml', line: 14, col: 36 });
    // A pointer that goes past the document falls back to the nearest ancestor that exists.
    expect(config.locate('/apps/hr/import/nothing/here')).toEqual({ file: 'idplane.yaml', line: 13, col: 7 });
    expect(config.locateInScalar('/apps/hr/import/mappings/firstName', 4)).toEqual({ file: 'idplane.yaml', line: 18, col: 24 });
  });

  it('reports a missing idplane.yaml and suggests -C', async () => {
    const problems = await loadProblems({ 'other.yaml': MINIMAL });
    expect(problems).toHaveLength(1);
    const [p] = problems;
    expect(p).toMatchObject({ severity: 'error', file: 'idplane.yaml', line: 0, col: 0, pointer: '' });
    expect(p!.message).toContain('cannot read idplane.yaml: file not found');
    expect(p!.message).toContain('-C DIR');
    expect(formatProblem(p!)).toMatch(/^idplane\.yaml: error: cannot read idplane\.yaml: file not found/);
  });

  it('shows the missing file relative to the working directory', async () => {
    const outcome = await withConfigDir({}, (dir) => loadConfig(join(dir, 'sub'), {}, dir));
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.problems).toHaveLength(1);
    expect(outcome.problems[0]!.file).toBe(join('sub', 'idplane.yaml'));
    expect(outcome.problems[0]!.message).toContain('-C');
  });

  it('accepts a UTF-8 byte order mark and keeps positions right', async () => {
    const config = await loadOk({ 'idplane.yaml': '\uFEFF' + MINIMAL });
    expect(config.value.version).toBe(1);
    expect(Object.keys(config.value)).toEqual(['version', 'directory', 'apps']);
    expect(config.locate('/version')).toEqual({ file: 'idplane.yaml', line: 1, col: 10 });
    expect(config.locate('/apps/hr', true)).toEqual({ file: 'idplane.yaml', line: 8, col: 3 });
  });

  it.each([
    ['an empty file', ''],
    ['a list', '- a\n- b\n'],
    ['a scalar', 'hello\n'],
  ])('refuses %s as the config', async (_, text) => {
    const problems = await loadProblems({ 'idplane.yaml': text });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ file: 'idplane.yaml', line: 1, col: 1, pointer: '' });
    expect(problems[0]!.message).toContain('must be a YAML mapping');
  });
});

describe('loadConfig: malformed YAML', () => {
  it('reports bad indentation with its line and column', async () => {
    const problems = await loadProblems({
      'idplane.yaml': yaml(
        'version: 1',
        'directory:',
        '  attributes:',
        '    login: {}',
        '   email: {}', // 5: one space short
      ),
    });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ severity: 'error', file: 'idplane.yaml', line: 5, col: 1, pointer: '' });
    expect(problems[0]!.message).toMatch(/^invalid YAML: /);
    expect(problems[0]!.message).toContain('same column');
    expect(problems[0]!.message).not.toContain('\n');
  });

  it('reports an unclosed quote with a line and column', async () => {
    const problems = await loadProblems({
      'idplane.yaml': yaml(
        'version: 1',
        'apps:',
        '  hr:',
        '    provider: "csv', // 4: never closed
        '    connection: {}',
      ),
    });
    expect(problems).toHaveLength(1);
    // The parser notices at the end of the document, where the quote would have to close.
    expect(problems[0]).toMatchObject({ file: 'idplane.yaml', line: 6, col: 1 });
    expect(problems[0]!.message).toMatch(/^invalid YAML: Missing closing "quote/);
  });

  it('refuses a config whose files hold more than the limit of text, before parsing it, naming the file', async () => {
    const big = `version: 1\n# ${'x'.repeat(MAX_CONFIG_CHARS / 2)}\n`;
    const problems = await loadProblems({ 'idplane.yaml': `${big}include: [more.yaml]\n`, 'more.yaml': `apps: {}\n# ${'y'.repeat(MAX_CONFIG_CHARS / 2)}\n` });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ file: 'more.yaml', line: 1, col: 1 });
    expect(problems[0]!.message).toBe('more.yaml (4.0 MiB) takes the config past its limit of 8.0 MiB of text in all files: a config is kilobytes; is this a generated or wrong file?');
  });

  it('reports a tab used as indentation', async () => {
    const problems = await loadProblems({ 'idplane.yaml': 'version: 1\napps:\n\thr: {}\n' });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ file: 'idplane.yaml', line: 3, col: 1 });
    expect(problems[0]!.message).toContain('Tabs are not allowed');
  });

  it('reports an app key written twice in the same map as a YAML duplicate key, at the second key', async () => {
    const problems = await loadProblems({
      'idplane.yaml': MINIMAL + yaml(
        '  hr:', //                                19
        '    provider: csv', //                    20
        '    connection: { path: other.csv }', //  21
      ),
    });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ severity: 'error', file: 'idplane.yaml', line: 19, col: 3 });
    expect(problems[0]!.message).toMatch(/^duplicate key "hr": it is defined first at line \d+; remove or merge one of them$/);
    expect(formatProblem(problems[0]!)).toMatch(/^idplane\.yaml:19:3: error: duplicate key/);
  });

  it('stops at the first syntax error, and says to quote a ${…} that sits unquoted in a flow mapping', async () => {
    const problems = await loadProblems({
      'idplane.yaml': yaml(
        'version: 1',
        'state: { backend: postgres, url: ${env:IDPLANE_STATE_URL} }', // 2: what the README once said
        'directory: { attributes: { login: { type: string } } }',
      ),
    });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ file: 'idplane.yaml', line: 2 });
    expect(problems[0]!.message).toMatch(/^invalid YAML: .*; a value holding \$\{…\} inside \{ … \} must be quoted, as in url: "\$\{env:STATE_URL\}"$/);
  });

  it('finds the first definition of a quoted repeated key too', async () => {
    const problems = await loadProblems({ 'idplane.yaml': yaml('version: 1', '"apps": {}', 'directory: {}', '"apps": {}') });
    expect(problems.map((p) => p.message)).toEqual(['duplicate key "apps": it is defined first at line 2; remove or merge one of them']);
  });

  it('reports every repeated key of the file at once, each with its first definition', async () => {
    const problems = await loadProblems({
      'idplane.yaml': yaml(
        'version: 1', //  1
        'version: 1', //  2 duplicate
        'apps:', //       3
        '  a: 1', //      4
        '  a: 2', //      5 duplicate
      ),
    });
    expect(problems.map((p) => [p.line, p.col])).toEqual([[2, 1], [5, 3]]);
    expect(problems.map((p) => p.message)).toEqual([
      'duplicate key "version": it is defined first at line 1; remove or merge one of them',
      'duplicate key "a": it is defined first at line 4; remove or merge one of them',
    ]);
  });
});

/** `a: &a ["x" ×10]`, `b: &b [*a ×10]`, … : `levels` levels expand to 10^levels strings. */
function aliasBomb(levels: number): string[] {
  const names = 'abcdefghijkl'.slice(0, levels);
  const lines = [`a: &a [${Array(10).fill('"x"').join(', ')}]`];
  for (let i = 1; i < names.length; i++) lines.push(`${names[i]}: &${names[i]} [${Array(10).fill(`*${names[i - 1]}`).join(', ')}]`);
  return lines;
}

describe('loadConfig: YAML aliases', () => {
  // Would still finish (10^4 strings) if the alias limit were gone, so it fails rather than hangs then.
  it('refuses a moderate alias fan-out', async () => {
    const problems = await loadProblems({ 'idplane.yaml': MINIMAL + yaml(...aliasBomb(4)) });
    expect(problems).toHaveLength(1);
    expect(problems[0]!.message).toContain('refusing to expand YAML aliases');
  });

  it('refuses a billion-laughs alias bomb quickly instead of expanding it', async () => {
    const lines = aliasBomb(9);
    expect(lines).toHaveLength(9);
    const started = Date.now();
    const problems = await loadProblems({ 'idplane.yaml': MINIMAL + yaml(...lines) });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ severity: 'error', file: 'idplane.yaml', line: 1, col: 1, pointer: '' });
    expect(problems[0]!.message).toContain('refusing to expand YAML aliases');
    expect(problems[0]!.message).toContain('alias bomb');
  }, 10_000);

  it('still expands a few ordinary aliases', async () => {
    const text = MINIMAL.replace('connection: { path: hr.csv }', 'connection: &conn { path: hr.csv }') + yaml(
      '  crm:',
      '    provider: csv',
      '    connection: *conn',
    );
    const config = await loadOk({ 'idplane.yaml': text });
    expect((config.value.apps as Record<string, { connection: unknown }>).crm!.connection).toEqual({ path: 'hr.csv' });
  });
});

describe('loadConfig: include', () => {
  it('merges apps, directory attributes, users and links from an included file', async () => {
    const config = await loadOk({
      'idplane.yaml': MINIMAL + yaml(
        'include: [extra.yaml]', //      19
        'users:', //                     20
        '  - login: x@example.com', //   21
      ),
      'extra.yaml': EXTRA,
    });
    const value = config.value as {
      apps: Record<string, unknown>;
      directory: { attributes: Record<string, unknown> };
      users: unknown[];
      links: unknown[];
    };
    expect(Object.keys(value.apps)).toEqual(['hr', 'crm']);
    expect(value.apps.crm).toEqual({ provider: 'csv', connection: { path: 'crm.csv' } });
    expect(Object.keys(value.directory.attributes)).toEqual(['login', 'email', 'firstName', 'title']);
    // Lists are concatenated: the main file's entries first.
    expect(value.users).toEqual([{ login: 'x@example.com' }, { login: 'admin@example.com', profile: { title: 'Boss' } }]);
    expect(value.links).toEqual([{ app: 'crm', key: '7', user: 'admin@example.com' }]);

    // Merged values remember the file they came from.
    expect(config.locate('/apps/crm', true)).toEqual({ file: 'extra.yaml', line: 2, col: 3 });
    expect(config.locate('/apps/crm/connection/path')).toEqual({ file: 'extra.yaml', line: 4, col: 25 });
    expect(config.locate('/directory/attributes/title', true)).toEqual({ file: 'extra.yaml', line: 7, col: 5 });
    expect(config.locate('/users/0/login')).toEqual({ file: 'idplane.yaml', line: 21, col: 12 });
    expect(config.locate('/users/1/profile/title')).toEqual({ file: 'extra.yaml', line: 10, col: 23 });
    expect(config.locate('/links/0/app')).toEqual({ file: 'extra.yaml', line: 12, col: 12 });
    expect(config.locate('/apps/hr', true)).toEqual({ file: 'idplane.yaml', line: 8, col: 3 });
  });

  it('resolves includes relative to the config folder and shows their relative path', async () => {
    const config = await loadOk({
      'idplane.yaml': MINIMAL + 'include: [conf/apps.yaml]\n',
      'conf/apps.yaml': EXTRA,
    });
    expect(config.locate('/apps/crm', true)).toEqual({ file: join('conf', 'apps.yaml'), line: 2, col: 3 });
  });

  it('reports a YAML error inside an included file with that file and line', async () => {
    const problems = await loadProblems({
      'idplane.yaml': MINIMAL + 'include: [extra.yaml]\n',
      'extra.yaml': yaml(
        'apps:', //           1
        '  crm:', //          2
        '    provider: csv', // 3
        '   key: id', //      4 bad indentation
      ),
    });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ file: 'extra.yaml', line: 4, col: 1 });
    expect(problems[0]!.message).toMatch(/^invalid YAML: /);
  });

  it('reports an include of a missing file at the include entry', async () => {
    const problems = await loadProblems({
      'idplane.yaml': MINIMAL + yaml(
        'include:', //           19
        '  - extra.yaml', //     20
        '  - nope.yaml', //      21
      ),
      'extra.yaml': EXTRA,
    });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ severity: 'error', file: 'idplane.yaml', line: 21, col: 5, pointer: '/include/1' });
    expect(problems[0]!.message).toContain('cannot include nope.yaml: file not found');
  });

  it('rejects version:, profileSources: and other main-file keys in an included file', async () => {
    const problems = await loadProblems({
      'idplane.yaml': MINIMAL + 'include: [extra.yaml]\n',
      'extra.yaml': yaml(
        'version: 1', //                       1
        'profileSources: [hr]', //             2
        'directory:', //                       3
        '  protect: { roles: [admin] }', //    4
        '  attributes:', //                    5
        '    title: {}', //                    6
        'state: { backend: embedded }', //     7
      ),
    });
    expect(problems.map((p) => [p.file, p.line, p.col, p.pointer])).toEqual([
      ['extra.yaml', 1, 1, '/version'],
      ['extra.yaml', 2, 1, '/profileSources'],
      ['extra.yaml', 4, 3, '/directory/protect'],
      ['extra.yaml', 7, 1, '/state'],
    ]);
    expect(problems[0]!.message).toContain('version may only be set in idplane.yaml');
    expect(problems[1]!.message).toContain('profileSources may only be set in idplane.yaml');
    expect(problems[2]!.message).toContain('directory.protect may only be set in idplane.yaml');
    expect(problems[3]!.message).toContain('state may only be set in idplane.yaml');
  });

  it('reports an app defined in idplane.yaml and again in an included file, at the included key', async () => {
    const problems = await loadProblems({
      'idplane.yaml': MINIMAL + 'include: [more/apps.yaml]\n',
      'more/apps.yaml': yaml(
        '# more apps', //                        1
        'apps:', //                              2
        '  crm:', //                             3
        '    provider: csv', //                  4
        '    connection: { path: c.csv }', //    5
        '  hr:', //                              6
        '    provider: csv', //                  7
        '    connection: { path: h.csv }', //    8
      ),
    });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ severity: 'error', file: join('more', 'apps.yaml'), line: 6, col: 3, pointer: '/apps/hr' });
    expect(problems[0]!.message).toContain('duplicate app "hr"');
    expect(problems[0]!.message).toContain('already defined at idplane.yaml:8');
  });

  it('reports an app defined in two included files, naming the first', async () => {
    const app = (path: string) => yaml('apps:', '  crm:', '    provider: csv', `    connection: { path: ${path} }`);
    const problems = await loadProblems({
      'idplane.yaml': MINIMAL + 'include: [a.yaml, b.yaml]\n',
      'a.yaml': app('a.csv'),
      'b.yaml': app('b.csv'),
    });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ file: 'b.yaml', line: 2, col: 3, pointer: '/apps/crm' });
    expect(problems[0]!.message).toContain('already defined at a.yaml:2');
  });

  it('reports a directory attribute defined twice across files', async () => {
    const problems = await loadProblems({
      'idplane.yaml': MINIMAL + 'include: [attrs.yaml]\n',
      'attrs.yaml': yaml('directory:', '  attributes:', '    title: {}', '    email: { unique: true }'),
    });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ file: 'attrs.yaml', line: 4, col: 5, pointer: '/directory/attributes/email' });
    expect(problems[0]!.message).toContain('duplicate attribute "email": already defined at idplane.yaml:5');
  });

  it('does not mistake Object.prototype names for earlier definitions', async () => {
    // Regression: the duplicate check used `in`, so "constructor" looked already defined.
    const config = await loadOk({
      'idplane.yaml': MINIMAL + 'include: [attrs.yaml]\n',
      'attrs.yaml': yaml('directory:', '  attributes:', '    constructor: { type: string }', '    toString: {}'),
    });
    expect(Object.keys((config.value.directory as { attributes: object }).attributes)).toContain('constructor');
    expect(Object.keys((config.value.directory as { attributes: object }).attributes)).toContain('toString');
  });

  it('keeps reporting the rest of an included file after a section of the wrong shape', async () => {
    // Regression: `users:` that is not a list ended the merge of that file, hiding its other problems.
    const problems = await loadProblems({
      'idplane.yaml': MINIMAL + 'include: [extra.yaml]\n',
      'extra.yaml': yaml('users: { login: a@example.com }', 'version: 1'),
    });
    expect(problems.map((p) => [p.file, p.line, p.col, p.pointer])).toEqual([
      ['extra.yaml', 1, 8, '/users'],
      ['extra.yaml', 2, 1, '/version'],
    ]);
    expect(problems[0]!.message).toContain('users must be a list');
  });

  it('refuses an included file that is not a mapping', async () => {
    const problems = await loadProblems({ 'idplane.yaml': MINIMAL + 'include: [extra.yaml]\n', 'extra.yaml': '- a\n' });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ file: 'extra.yaml', line: 1, col: 1 });
    expect(problems[0]!.message).toContain('an included file must be a YAML mapping');
  });
});

describe('loadConfig: ${env:NAME}', () => {
  const WITH_ENV = MINIMAL.replace('{ path: hr.csv }', '{ path: "${env:HR_DIR}/hr-${env:HR_YEAR}.csv" }');

  it('resolves references from the env argument and keeps them in `unresolved`', async () => {
    const config = await loadOk({ 'idplane.yaml': WITH_ENV }, { HR_DIR: '/data', HR_YEAR: '2024' });
    const app = (root: Record<string, unknown>) => (root.apps as Record<string, { connection: { path: string } }>).hr!;
    expect(app(config.value).connection.path).toBe('/data/hr-2024.csv');
    expect(app(config.unresolved).connection.path).toBe('${env:HR_DIR}/hr-${env:HR_YEAR}.csv');
    expect([...config.fromEnv]).toEqual(['/apps/hr/connection/path']);
  });

  it('inserts values literally (no $& or $1 replacement patterns)', async () => {
    const config = await loadOk({ 'idplane.yaml': WITH_ENV }, { HR_DIR: 'a$&b$1', HR_YEAR: '$$' });
    expect((config.value.apps as Record<string, { connection: { path: string } }>).hr!.connection.path).toBe('a$&b$1/hr-$$.csv');
  });

  it('does not read process.env', async () => {
    process.env.IDPLANE_TEST_ONLY_IN_PROCESS_ENV = 'leaked';
    try {
      const problems = await loadProblems({ 'idplane.yaml': MINIMAL.replace('hr.csv', '"${env:IDPLANE_TEST_ONLY_IN_PROCESS_ENV}"') }, {});
      expect(problems[0]!.message).toBe('environment variable IDPLANE_TEST_ONLY_IN_PROCESS_ENV is not set');
    } finally {
      delete process.env.IDPLANE_TEST_ONLY_IN_PROCESS_ENV;
    }
  });

  it('reports each missing variable by name, at the value that uses it', async () => {
    const problems = await loadProblems({ 'idplane.yaml': WITH_ENV }, { HR_DIR: '/data' });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ severity: 'error', file: 'idplane.yaml', line: 10, col: 25, pointer: '/apps/hr/connection/path' });
    expect(problems[0]!.message).toBe('environment variable HR_YEAR is not set');

    const both = await loadProblems({ 'idplane.yaml': WITH_ENV }, {});
    expect(both.map((p) => p.message)).toEqual(['environment variable HR_DIR is not set', 'environment variable HR_YEAR is not set']);
  });

  it('reports a missing variable in an included file at that file', async () => {
    const problems = await loadProblems({
      'idplane.yaml': MINIMAL + 'include: [extra.yaml]\n',
      'extra.yaml': yaml('apps:', '  crm:', '    provider: csv', '    connection:', '      path: ${env:CRM_PATH}'),
    });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ file: 'extra.yaml', line: 5, col: 13, pointer: '/apps/crm/connection/path' });
    expect(problems[0]!.message).toContain('CRM_PATH');
  });

  it('reports load problems from several files together', async () => {
    const problems = await loadProblems({
      'idplane.yaml': WITH_ENV + 'include: [missing.yaml, extra.yaml]\n',
      'extra.yaml': 'version: 1\n',
    }, { HR_DIR: '/d', HR_YEAR: '1' });
    expect(describeProblems(problems)).toContain('cannot include missing.yaml');
    expect(problems.map((p) => `${p.file}:${p.line}:${p.col}`)).toEqual(['idplane.yaml:19:11', 'extra.yaml:1:1']);
  });
});

describe('loadConfig: ${file:PATH}', () => {
  const WITH_FILE = MINIMAL.replace('{ path: hr.csv }', '{ path: "${file:secrets/hr-path}" }');

  it('reads the file relative to the config, drops trailing line breaks, and treats it as a secret', async () => {
    const config = await loadOk({ 'idplane.yaml': WITH_FILE, 'secrets/hr-path': 'data/hr.csv\r\n\n' });
    const app = (root: Record<string, unknown>) => (root.apps as Record<string, { connection: { path: string } }>).hr!;
    expect(app(config.value).connection.path).toBe('data/hr.csv');
    expect(app(config.unresolved).connection.path).toBe('${file:secrets/hr-path}');
    expect([...config.fromEnv]).toEqual(['/apps/hr/connection/path']);
  });

  it('mixes with ${env:NAME} in one value', async () => {
    const config = await loadOk({ 'idplane.yaml': MINIMAL.replace('{ path: hr.csv }', '{ path: "${env:D}/${file:name}" }'), name: 'hr.csv\n' }, { D: '/data' });
    expect((config.value.apps as Record<string, { connection: { path: string } }>).hr!.connection.path).toBe('/data/hr.csv');
  });

  it('reports a file that cannot be read at the value that names it, without its content', async () => {
    const problems = await loadProblems({ 'idplane.yaml': WITH_FILE });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ file: 'idplane.yaml', line: 10, pointer: '/apps/hr/connection/path' });
    expect(problems[0]!.message).toBe('cannot read the secret file secrets/hr-path: file not found');
  });
});

describe('test helpers', () => {
  it('problemAt finds exactly one problem by pointer', async () => {
    const problems = await loadProblems({ 'idplane.yaml': MINIMAL + 'include: [nope.yaml]\n' });
    expect(problemAt(problems, '/include/0').line).toBe(19);
  });

  it('withConfigDir writes nested files and removes its temporary folder', async () => {
    const kept = await withConfigDir({ 'idplane.yaml': MINIMAL, 'a/b/c.yaml': 'x: 1\n' }, async (dir) => {
      expect(await readFile(join(dir, 'a', 'b', 'c.yaml'), 'utf8')).toBe('x: 1\n');
      return dir;
    });
    await expect(access(kept)).rejects.toThrow();
    expect(await load({ 'idplane.yaml': MINIMAL })).toMatchObject({ ok: true });
  });
});
