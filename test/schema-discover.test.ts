import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { copyExample, idplane } from './cli-helpers.ts';

describe('idplane schema discover (csv)', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => ({ dir, cleanup } = await copyExample('quickstart')));
  afterAll(async () => cleanup());

  it('prints YAML declarations and mappings that paste into a valid config', () => {
    const r = idplane(dir, ['schema', 'discover', 'hr']);
    expect(r.code, r.stderr).toBe(0);
    const doc = parse(r.stdout);
    expect(doc.directory.attributes.employeeId).toEqual({ type: 'string', required: true, unique: true });
    expect(doc.directory.attributes.managerId).toEqual({ type: 'string' });
    expect(doc.directory.attributes.phone).toEqual({ type: 'string' });
    expect(doc.apps.hr.import.mappings).toMatchObject({ workEmail: 'app.work_email', employmentType: 'app.employment_type' });
    expect(r.stdout).toContain('# 4 of 50 rows empty; distinct in these rows; e.g. "+1 415 555 0101"');
  });

  it('says which apps exist when asked for an unknown one', () => {
    const r = idplane(dir, ['schema', 'discover', 'nope']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no app "nope" in the config (apps: hr)');
  });
});
