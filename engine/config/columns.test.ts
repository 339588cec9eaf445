import { describe, expect, it } from 'vitest';
import type { IdplaneConfig } from '../../schemas/generated/config.ts';
import { checkColumns } from './columns.ts';
import { formatProblem } from './problems.ts';
import { loadOk, MINIMAL, yaml } from './test-helpers.ts';

const HEADER = ['employee_id', 'work_email', 'first_name', 'last_name', 'title', 'updated_at'];

async function problems(text: string, columns = HEADER) {
  const loaded = await loadOk({ 'idplane.yaml': text });
  return checkColumns(loaded.value as unknown as IdplaneConfig, { app: 'hr', columns, from: 'hr.csv' }, loaded).map(formatProblem);
}

describe('checkColumns', () => {
  it('accepts a config whose every column is in the header', async () => {
    expect(await problems(MINIMAL)).toEqual([]);
  });

  it('points at a misspelt column inside its expression, with the header and a hint', async () => {
    const text = MINIMAL.replace('firstName: app.first_name', 'firstName: app.first_name + " " + app.lsat_name');
    expect(await problems(text)).toEqual([
      'idplane.yaml:18:47: error: hr has no column "lsat_name" (hr.csv has: employee_id, work_email, first_name, last_name, title, updated_at); did you mean "last_name"? (/apps/hr/import/mappings/firstName)',
    ]);
  });

  it('checks match rule columns, the disabled expression and the watermark', async () => {
    const text = MINIMAL
      .replace('        - { app: work_email, user: email }\n', yaml('        - { app: workemail, user: email }', '        - all: [{ app: employee_idd, user: login }]', '        - expression: { app: app.mail, user: user.email }'))
      .replace('      mappings:\n', yaml('      mode: incremental', '      watermark: updatedAt', '      disabled: app.sttus == "Terminated"', '      mappings:'));
    const found = await problems(text);
    expect(found.map((p) => p.replace(/ \(hr\.csv has: [^)]*\)/, ''))).toEqual([
      'idplane.yaml:19:21: error: hr has no column "sttus" (/apps/hr/import/disabled)',
      'idplane.yaml:14:18: error: hr has no column "workemail"; did you mean "work_email"? (/apps/hr/import/match/0/app)',
      'idplane.yaml:15:24: error: hr has no column "employee_idd"; did you mean "employee_id"? (/apps/hr/import/match/1/all/0/app)',
      'idplane.yaml:16:34: error: hr has no column "mail" (/apps/hr/import/match/2/expression/app)',
      'idplane.yaml:18:18: error: hr has no column "updatedAt"; did you mean "updated_at"? (/apps/hr/import/watermark)',
    ]);
  });

  it('only warns about a column that is merely tested for', async () => {
    const text = MINIMAL.replace('firstName: app.first_name', 'firstName: \'has(app.nick) ? app.first_name : ""\'');
    expect(await problems(text)).toEqual([
      'idplane.yaml:18:29: warning: hr has no column "nick" (hr.csv); this test of it is always false (/apps/hr/import/mappings/firstName)',
    ]);
  });
});
