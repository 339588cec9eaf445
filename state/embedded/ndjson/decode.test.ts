import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { emptyState, type AppRecords, type DirectoryState } from '../../../reconciler/model.ts';
import { packValues } from '../../../reconciler/records.ts';
import { StateFormatError } from '../../types.ts';
import { decodeState, decodeStateFile, STATE_FORMAT_VERSION } from './decode.ts';
import { legacyStateText } from './fixture.ts';

const FILE = '/somewhere/.idplane/state.ndjson';

function records(columns: string[], rows: [string, Record<string, string>, boolean][]): AppRecords {
  return { columns, records: new Map(rows.map(([key, attributes, disabled]) => [key, { values: packValues(columns, attributes), disabled }])) };
}

function sampleState(): DirectoryState {
  return {
    ...emptyState(),
    lineage: '6f1c2a3e-0000-4000-8000-000000000001',
    serial: 42,
    users: [
      {
        id: 'u-1',
        login: 'zoe.muller@example.com',
        status: 'ACTIVE',
        profile: {
          firstName: 'Zoë',
          lastName: 'Müller-Łódź',
          city: '東京 🚀',
          address: '12 Main St\nApt 4\r\nSpringfield',
          quote: 'He said "hi" \\ back\tslash',
          separators: 'line\u2028paragraph\u2029end',
          level: 3,
          manager: false,
          groups: ['a', 'b\nc', ''],
        },
        profileSource: 'hr',
        roles: ['admin'],
      },
      { id: 'u-2', login: 'bob@example.com', status: 'SUSPENDED', profile: {}, profileSource: 'directory', roles: [] },
      { id: 'u-3', login: 'new@example.com', status: 'STAGED', profile: { empty: '' }, profileSource: 'hr', roles: ['a', 'b'] },
    ],
    links: [
      { app: 'hr', key: '1001', userId: 'u-1' },
      { app: 'badge', key: 'Zoë\nline\t"quoted" \\ key', userId: 'u-1' },
      { app: 'hr', key: '1003', userId: 'u-3' },
    ],
    imported: new Map([
      ['hr', records(['first_name', 'note', 'empty', 'tab'], [
        ['1001', { first_name: 'Zoë', note: 'multi\nline\r\nvalue', empty: '', tab: 'a\tb' }, false],
        ['1003', { first_name: 'Nü' }, true],
      ])],
      ['badge', records([], [['Zoë\nline\t"quoted" \\ key', {}, false]])],
    ]),
    watermarks: { hr: '2024-06-01T12:00:00Z', badge: 'Zoë 7\nnext' },
    pipeline: 'sha256:pipeline',
  };
}

/** The file idplane before SQLite wrote for `state`. */
const encode = (state: DirectoryState): string => legacyStateText(state);

async function* chunks(...parts: string[]): AsyncGenerator<Buffer> {
  for (const part of parts) yield Buffer.from(part);
}

/** The UTF-8 bytes in pieces of `size` bytes, so that lines (and characters) straddle chunks. */
async function* pieces(text: string, size: number): AsyncGenerator<Buffer> {
  const bytes = Buffer.from(text);
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

function decode(text: string): Promise<DirectoryState> {
  return decodeState(chunks(text), FILE);
}

/** The state as written (the digest is set by reading). */
const content = (state: DirectoryState) => ({ ...state, digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) as unknown as string });

async function formatError(promise: Promise<unknown>): Promise<StateFormatError> {
  const error = await promise.then(
    () => {
      throw new Error('expected a StateFormatError, decoding succeeded');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StateFormatError);
  expect((error as StateFormatError).code).toBe('STATE_FORMAT');
  return error as StateFormatError;
}

function lines(text: string): string[] {
  expect(text.endsWith('\n')).toBe(true);
  return text.slice(0, -1).split('\n');
}

describe('decodeState of files idplane wrote', () => {
  it('gives back the same state: users, links, packed imported records, unicode, tabs and newlines', async () => {
    const state = sampleState();
    const back = await decode(encode(state));
    expect(back).toEqual(content(state));
    expect(back.edited).toBe(false);
    expect(back.users[0]!.profile.address).toBe('12 Main St\nApt 4\r\nSpringfield');
    expect(back.imported.get('hr')!.records.get('1001')!.values).toBe(JSON.stringify(['Zoë', 'multi\nline\r\nvalue', '', 'a\tb']));
    expect(back.links[1]!.key).toBe('Zoë\nline\t"quoted" \\ key');
  });

  it('gives the commit token of the write that made the file, from its header', async () => {
    expect(await decodeStateFile(chunks(legacyStateText(sampleState(), 'token-7')), FILE)).toEqual({ state: content(sampleState()), commit: 'token-7' });
    expect((await decodeStateFile(chunks(encode(sampleState())), FILE)).commit).toBeNull();
  });

  it('stores edited only when set, and reads it back', async () => {
    const state = { ...sampleState(), edited: true };
    expect(JSON.parse(lines(encode(state))[0]!).edited).toBe(true);
    expect((await decode(encode(state))).edited).toBe(true);
  });

  it('round-trips the empty state (no lineage yet)', async () => {
    const text = encode(emptyState());
    expect(lines(text)).toHaveLength(2);
    expect(await decode(text)).toEqual(content(emptyState()));
  });

  it('decodes whatever the chunk boundaries (mid-line, mid-character, one byte at a time), with the same digest', async () => {
    const state = sampleState();
    const text = encode(state);
    const digest = (await decode(text)).digest;
    for (const size of [1, 2, 7, 64, 1000]) expect(await decodeState(pieces(text, size), FILE)).toEqual({ ...state, digest });
  });

  it('reads a large state whose lines straddle the chunks it comes in', async () => {
    const users = Array.from({ length: 30_000 }, (_, i) => ({
      id: `u${i}`, login: `user${i}@example.com`, status: 'ACTIVE' as const,
      profile: { name: `Zoë ${i}`, note: 'a\nb' }, profileSource: 'hr', roles: [],
    }));
    const state: DirectoryState = {
      ...emptyState(), lineage: 'big', serial: 7, users,
      links: users.map((u, i) => ({ app: 'hr', key: `${i}`, userId: u.id })),
      imported: new Map([['hr', records(['n'], users.map((_, i) => [`${i}`, { n: `${i}` }, i % 2 === 0]))]]),
      watermarks: { hr: '000123' },
    };
    const text = encode(state);
    expect(JSON.parse(lines(text).at(-1)!)).toMatchObject({ t: 'end', records: 90_000 });
    expect(await decodeState(pieces(text, 1 << 20), FILE)).toEqual(content(state));
  });

  it('decodes from a real file stream, a trailing newline or not', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'idplane-codec-'));
    try {
      const state = sampleState();
      const path = join(dir, 'state.ndjson');
      await writeFile(path, encode(state));
      expect(await decodeState(createReadStream(path, { highWaterMark: 16 }), path)).toEqual(content(state));
      await writeFile(path, encode(state).slice(0, -1));
      expect(await decodeState(createReadStream(path, { highWaterMark: 16 }), path)).toEqual(content(state));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('keeps an app named "constructor" and an account key "__proto__" as data, without touching Object', async () => {
    const state: DirectoryState = {
      ...emptyState(), lineage: 'l', serial: 1,
      imported: new Map([['constructor', records(['a'], [['k1', { a: '1' }, false]])], ['hr', records(['a'], [['__proto__', { a: '2' }, true], ['x', {}, false]])]]),
    };
    const back = await decode(encode(state));
    expect([...back.imported.keys()]).toEqual(['constructor', 'hr']);
    expect([...back.imported.get('hr')!.records.keys()]).toEqual(['__proto__', 'x']);
    expect((Object as unknown as Record<string, unknown>).k1).toBeUndefined();
  });
});

describe('edits made outside idplane', () => {
  it('are recognised by the digest: the state reads as edited, with another digest', async () => {
    const text = encode(sampleState());
    const clean = await decode(text);
    const tampered = await decode(text.replace('"lastName":"Müller-Łódź"', '"lastName":"Mueller"'));
    expect(clean.edited).toBe(false);
    expect(tampered.edited).toBe(true);
    expect(tampered.digest).not.toBe(clean.digest);
    expect(tampered.users[0]!.profile.lastName).toBe('Mueller');
  });

  it('the same content gives the same digest; any other content another', async () => {
    const state = sampleState();
    const a = await decode(encode(state));
    expect((await decode(encode(state))).digest).toBe(a.digest);
    expect((await decode(encode({ ...state, serial: 43 }))).digest).not.toBe(a.digest);
  });
});

describe('format 1 files (idplane before the packed records)', () => {
  it('are read and converted: imported attribute objects become packed records', async () => {
    const v1 = [
      JSON.stringify({ t: 'header', format_version: 1, lineage: 'old', serial: 3 }),
      JSON.stringify({ t: 'user', v: sampleState().users[1] }),
      JSON.stringify({ t: 'link', v: { app: 'hr', key: '1001', userId: 'u-2' } }),
      JSON.stringify({ t: 'imported', app: 'hr', key: '1001', attributes: { first_name: 'Zoë', note: 'x' }, disabled: false }),
      JSON.stringify({ t: 'imported', app: 'hr', key: '1002', attributes: { first_name: 'Al', extra: 'y' }, disabled: true }),
      JSON.stringify({ t: 'end', records: 4 }),
    ].join('\n') + '\n';
    const back = await decode(v1);
    expect(back).toMatchObject({ lineage: 'old', serial: 3, watermarks: {}, pipeline: null, edited: false, users: [sampleState().users[1]] });
    const hr = back.imported.get('hr')!;
    expect(hr.columns).toEqual(['first_name', 'note', 'extra']);
    expect(hr.records.get('1002')).toEqual({ values: '["Al","","y"]', disabled: true });
  });
});

describe('decodeState on damaged input', () => {
  it('refuses a file whose last line (the end marker) is missing: truncated', async () => {
    const all = lines(encode(sampleState()));
    const error = await formatError(decode(all.slice(0, -1).join('\n') + '\n'));
    expect(error.message).toBe(`${FILE}: truncated (no end marker); the state file is damaged`);
  });

  it('refuses a file cut at any line boundary before the end marker', async () => {
    const all = lines(encode(sampleState()));
    for (let keep = 1; keep < all.length; keep++) {
      const error = await formatError(decode(all.slice(0, keep).join('\n') + '\n'));
      expect(error.message).toMatch(/truncated/);
    }
  });

  it('refuses a file cut in the middle of a line, naming that line', async () => {
    const text = encode(sampleState());
    const all = lines(text);
    const cut = all.slice(0, 3).join('\n').length - 10; // inside line 3, a user record
    const error = await formatError(decode(text.slice(0, cut)));
    expect(error.message).toBe(`${FILE}:3: not valid JSON; the state file is damaged`);
  });

  it('names the line of a corrupted record in the middle', async () => {
    const all = lines(encode(sampleState()));
    all[1] = all[1]!.slice(0, 20) + '\u0000\u0000garbage';
    expect((await formatError(decode(all.join('\n') + '\n'))).message).toBe(`${FILE}:2: not valid JSON; the state file is damaged`);
    const badRecord = lines(encode(sampleState()));
    badRecord[8] = 'I\t"hr"\t"1001"\t0';
    expect((await formatError(decode(badRecord.join('\n') + '\n'))).message).toBe(`${FILE}:9: not a valid imported record; the state file is damaged`);
  });

  it('names the line of an unknown record type and of an empty line', async () => {
    for (const bad of ['null', '17', 'X\tsomething', '']) {
      const all = lines(encode(sampleState()));
      all[2] = bad;
      expect((await formatError(decode(all.join('\n') + '\n'))).message).toBe(`${FILE}:3: unknown record type`);
    }
  });

  it('refuses a missing record (count differs from the end marker)', async () => {
    const all = lines(encode(sampleState()));
    all.splice(2, 1);
    const error = await formatError(decode(all.join('\n') + '\n'));
    expect(error.message).toBe(`${FILE}: end marker counts 9 records but 8 were read`);
  });

  it('refuses data after the end marker and a second header, naming the line', async () => {
    const all = lines(encode(sampleState()));
    const after = [...all, 'U\t{}'];
    expect((await formatError(decode(after.join('\n') + '\n'))).message).toBe(`${FILE}:14: data after the end marker`);
    const twice = [...all];
    twice.splice(1, 0, all[0]!);
    expect((await formatError(decode(twice.join('\n') + '\n'))).message).toBe(`${FILE}:2: a second header`);
  });

  it('refuses a file from a newer idplane, telling to upgrade', async () => {
    const all = lines(encode(sampleState()));
    all[0] = JSON.stringify({ t: 'header', format_version: STATE_FORMAT_VERSION + 1, lineage: 'x', serial: 1 });
    const error = await formatError(decode(all.join('\n') + '\n'));
    expect(error.message).toBe(`${FILE}: state format ${STATE_FORMAT_VERSION + 1} is newer than this idplane understands (${STATE_FORMAT_VERSION}); upgrade idplane`);
  });

  it('refuses empty input', async () => {
    for (const input of [chunks(), chunks(''), chunks('', '')]) {
      const error = await formatError(decodeState(input, FILE));
      expect(error.message).toBe(`${FILE}: empty state file`);
    }
  });

  it('refuses a file that does not start with a header', async () => {
    const all = lines(encode(sampleState()));
    const error = await formatError(decode(all.slice(1).join('\n') + '\n'));
    expect(error.message).toBe(`${FILE}:1: missing header; not an idplane state file`);
    expect((await formatError(decode('{"hello":"world"}\n'))).message).toBe(`${FILE}:1: missing header; not an idplane state file`);
  });
});
