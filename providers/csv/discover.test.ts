import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { discoverCsv } from './discover.ts';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'idplane-csv-discover-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function discover(content: string) {
  const path = join(dir, 'people.csv');
  await writeFile(path, content);
  return discoverCsv({ app: 'hr', path, displayPath: 'people.csv', connection: { path: 'people.csv' }, key: 'id' });
}

describe('discoverCsv', () => {
  it('lists the header columns with types inferred from the rows', async () => {
    const { attributes, note } = await discover('id,age,active,"note, free"\n1,42,true,x\n2,7,false,\n');
    expect(attributes.map((a) => [a.name, a.type, a.required, a.unique])).toEqual([
      ['id', 'string', true, true],
      ['age', 'integer', true, false],
      ['active', 'boolean', true, false],
      ['note, free', 'string', false, false],
    ]);
    expect(note).toBe('people.csv: 4 columns, types inferred from 2 rows');
  });

  it('lists the columns of a file that has a header and no rows yet', async () => {
    const { attributes, note } = await discover('id,email\n');
    expect(attributes.map((a) => a.name)).toEqual(['id', 'email']);
    expect(note).toBe('people.csv: 2 columns, types inferred from 0 rows');
  });
});
