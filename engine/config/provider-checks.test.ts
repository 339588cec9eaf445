import { describe, expect, it } from 'vitest';
import { formatProblem } from './problems.ts';
import { validate, yaml } from './test-helpers.ts';

const HTTP = (connection: string[], imp: string[] = []) => yaml(
  'version: 1',
  'directory:',
  '  attributes:',
  '    login: { type: string, required: true }',
  'apps:',
  '  hr:',
  '    provider: http',
  '    connection:',
  '      url: https://hr.example.test/api/employees',
  ...connection.map((l) => `      ${l}`),
  '    import:',
  ...imp.map((l) => `      ${l}`),
  '      mappings: { login: app.email }',
);

async function problems(text: string, env: Record<string, string> = {}): Promise<{ errors: string[]; warnings: string[] }> {
  const outcome = await validate({ 'idplane.yaml': text }, env);
  const all = outcome.ok ? outcome.warnings : [...outcome.problems];
  return {
    errors: all.filter((p) => p.severity === 'error').map(formatProblem),
    warnings: all.filter((p) => p.severity === 'warning').map(formatProblem),
  };
}

describe('validate: http apps', () => {
  it('accepts a paged, incremental http import', async () => {
    const r = await problems(HTTP(['pagination: { type: cursor, cursorPath: meta.next }', 'since: { param: updated_since }'], ['mode: incremental', 'watermark: updated_at']));
    expect(r).toEqual({ errors: [], warnings: [] });
  });

  it('wants connection.since for an incremental import, and the path a cursor or next-link listing follows', async () => {
    const r = await problems(HTTP(['pagination: { type: cursor }'], ['mode: incremental', 'watermark: updated_at']));
    expect(r.errors).toEqual([
      expect.stringMatching(/^idplane\.yaml:10:\d+: error: a cursor listing needs pagination\.cursorPath/),
      expect.stringMatching(/^idplane\.yaml:12:\d+: error: an incremental http import needs connection\.since/),
    ]);
    const link = await problems(HTTP(['pagination: { type: next-link }']));
    expect(link.errors).toEqual([expect.stringMatching(/^idplane\.yaml:10:\d+: error: a next-link listing needs pagination\.nextPath/)]);
  });

  it('warns of paging keys the pagination type does not read', async () => {
    const r = await problems(HTTP(['pagination: { type: link-header, pageParam: p, totalPath: meta.total }']));
    expect(r.errors).toEqual([]);
    expect(r.warnings).toEqual([expect.stringMatching(/^idplane\.yaml:10:\d+: warning: pagination\.pageParam does nothing with type: link-header/)]);
  });

  it('refuses a provision: section: the http provider only reads', async () => {
    const r = await problems(HTTP([]) + yaml('    provision:', '      mappings: { id: user.login }'));
    expect(r.errors).toEqual([expect.stringMatching(/unknown key "provision"/)]);
  });
});

describe('validate: okta apps', () => {
  it('takes an okta app as a source and a target, keyed by profile.login by default', async () => {
    const text = yaml(
      'version: 1',
      'directory:',
      '  attributes:',
      '    login: { type: string, required: true }',
      'apps:',
      '  okta:',
      '    provider: okta',
      '    connection: { url: https://acme.okta.test, token: "${env:OKTA_TOKEN}" }',
      '    import:',
      '      mappings:',
      '        login: \'app["profile.login"]\'',
      '    provision:',
      '      mappings: { profile.login: user.login }',
    );
    expect(await problems(text, { OKTA_TOKEN: '00abcdefghijklmnop' })).toEqual({ errors: [], warnings: [] });
  });

  it('wants one credential, one of search and filter, and lastUpdated as the watermark of an incremental import', async () => {
    const text = (connection: string, imp = '') => yaml(
      'version: 1',
      'directory:',
      '  attributes:',
      '    login: { type: string, required: true }',
      'apps:',
      '  okta:',
      '    provider: okta',
      `    connection: { url: https://acme.okta.test${connection} }`,
      '    import:',
      ...(imp ? [`      ${imp}`] : []),
      '      mappings: { login: app.id }',
    );
    expect((await problems(text(''))).errors).toEqual([expect.stringMatching(/^idplane\.yaml:8:\d+: error: okta needs a credential: connection\.token/)]);
    expect((await problems(text(', token: a, accessToken: b'))).errors).toEqual([expect.stringMatching(/^idplane\.yaml:8:\d+: error: give connection\.token or connection\.accessToken, not both/)]);
    expect((await problems(text(', token: a, search: x, filter: y'))).errors).toEqual([expect.stringMatching(/search or filter, not both/)]);
    expect((await problems(text(', token: a', 'mode: incremental\n      watermark: profile.login'))).errors).toEqual([expect.stringMatching(/^idplane\.yaml:11:\d+: error: an incremental okta import .* set watermark: lastUpdated/)]);
  });
});
