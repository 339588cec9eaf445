import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DirectoryState } from '../../reconciler/model.ts';
import { StateFormatError } from '../types.ts';
import { decodeState, encodeState, STATE_FORMAT_VERSION } from './codec.ts';

const FILE = '/somewhere/.idplane/state.ndjson';

function sampleState(): DirectoryState {
  return {
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
      { app: 'badge', key: 'Zoë\nline', userId: 'u-1' },
      { app: 'hr', key: '1003', userId: 'u-3' },
    ],
    imported: {
      hr: {
        '1001': { attributes: { first_name: 'Zoë', note: 'multi\nline\r\nvalue', empty: '' }, disabled: false },
        '1003': { attributes: { first_name: 'Nü' }, disabled: true },
      },
      badge: { 'Zoë\nline': { attributes: {}, disabled: false } },
    },
    watermarks: { hr: '2024-06-01T12:00:00Z', badge: 'Zoë 7\nnext' },
  };
}

function encode(state: DirectoryState): string {
  return [...encodeState(state)].join('');
}

async function* chunks(...parts: string[]): AsyncGenerator<string> {
  for (const part of parts) yield part;
}

/** The text in pieces of `size` characters, so that lines (and characters) straddle chunks. */
async function* pieces(text: string, size: number): AsyncGenerator<string> {
  for (let i = 0; i < text.length; i += size) yield text.slice(i, i + size);
}

function decode(text: string): Promise<DirectoryState> {
  return decodeState(chunks(text), FILE);
}

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

describe('encodeState / decodeState round trip', () => {
  it('gives back the same state: users, links, imported, unicode and values with newlines', async () => {
    const state = sampleState();
    const back = await decode(encode(state));
    expect(back).toEqual(state);
    expect(back.users[0]!.profile.address).toBe('12 Main St\nApt 4\r\nSpringfield');
    expect(back.imported.hr!['1001']!.attributes.note).toBe('multi\nline\r\nvalue');
  });

  it('writes one record a line: header first, the end marker with the record count last', () => {
    const text = encode(sampleState());
    const all = lines(text);
    expect(all).toHaveLength(1 + 3 + 3 + 3 + 1);
    expect(JSON.parse(all[0]!)).toEqual({
      t: 'header', format_version: STATE_FORMAT_VERSION, lineage: '6f1c2a3e-0000-4000-8000-000000000001', serial: 42,
      watermarks: { hr: '2024-06-01T12:00:00Z', badge: 'Zoë 7\nnext' },
    });
    expect(all.slice(1, 4).map((l) => JSON.parse(l).t)).toEqual(['user', 'user', 'user']);
    expect(all.slice(4, 7).map((l) => JSON.parse(l).t)).toEqual(['link', 'link', 'link']);
    expect(all.slice(7, 10).map((l) => JSON.parse(l).t)).toEqual(['imported', 'imported', 'imported']);
    expect(JSON.parse(all[10]!)).toEqual({ t: 'end', records: 9 });
  });

  it('round-trips the empty state (no lineage yet)', async () => {
    const empty: DirectoryState = { lineage: null, serial: 0, users: [], links: [], imported: {}, watermarks: {} };
    const text = encode(empty);
    expect(lines(text)).toHaveLength(2);
    expect(await decode(text)).toEqual(empty);
  });

  it('reads a header without watermarks (a file written before them) as no watermarks', async () => {
    const all = lines(encode(sampleState()));
    all[0] = JSON.stringify({ t: 'header', format_version: 1, lineage: 'old', serial: 3 });
    const back = await decode(all.join('\n') + '\n');
    expect(back.watermarks).toEqual({});
    expect(back.lineage).toBe('old');
    expect(back.serial).toBe(3);
    expect(back.users).toEqual(sampleState().users);
  });

  it('decodes whatever the chunk boundaries (mid-line, mid-character, one character at a time)', async () => {
    const state = sampleState();
    const text = encode(state);
    for (const size of [1, 2, 7, 64, 1000]) expect(await decodeState(pieces(text, size), FILE)).toEqual(state);
  });

  it('streams a large state in chunks of about 1 MiB, each ending at a line end, and reads it back', async () => {
    const users = Array.from({ length: 30_000 }, (_, i) => ({
      id: `u${i}`, login: `user${i}@example.com`, status: 'ACTIVE' as const,
      profile: { name: `Zoë ${i}`, note: 'a\nb' }, profileSource: 'hr', roles: [],
    }));
    const state: DirectoryState = {
      lineage: 'big', serial: 7, users,
      links: users.map((u, i) => ({ app: 'hr', key: `${i}`, userId: u.id })),
      imported: { hr: Object.fromEntries(users.map((_, i) => [`${i}`, { attributes: { n: `${i}` }, disabled: i % 2 === 0 }])) },
      watermarks: { hr: '000123' },
    };
    const parts = [...encodeState(state)];
    expect(parts.length).toBeGreaterThan(3);
    for (const part of parts) {
      expect(part.endsWith('\n')).toBe(true);
      expect(part.length).toBeLessThan((1 << 20) + 4096);
    }
    const text = parts.join('');
    expect(JSON.parse(lines(text).at(-1)!)).toEqual({ t: 'end', records: 90_000 });
    expect(await decodeState(chunks(...parts), FILE)).toEqual(state);
  });

  it('decodes from a real file stream (utf8), a trailing newline or not', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'idplane-codec-'));
    try {
      const state = sampleState();
      const path = join(dir, 'state.ndjson');
      await writeFile(path, encode(state));
      expect(await decodeState(createReadStream(path, { encoding: 'utf8', highWaterMark: 16 }), path)).toEqual(state);
      await writeFile(path, encode(state).slice(0, -1));
      expect(await decodeState(createReadStream(path, { encoding: 'utf8', highWaterMark: 16 }), path)).toEqual(state);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('keeps an app named "constructor" and an account key "__proto__" as data, without touching Object', async () => {
    const imported = JSON.parse('{"constructor":{"k1":{"attributes":{"a":"1"},"disabled":false}},"hr":{"__proto__":{"attributes":{"a":"2"},"disabled":true},"x":{"attributes":{},"disabled":false}}}') as DirectoryState['imported'];
    const state: DirectoryState = { lineage: 'l', serial: 1, users: [], links: [], imported, watermarks: {} };
    const back = await decode(encode(state));
    expect(Object.keys(back.imported)).toEqual(['constructor', 'hr']);
    expect(Object.keys(back.imported.hr!)).toEqual(['__proto__', 'x']);
    expect(Object.getPrototypeOf(back.imported.hr)).toBe(Object.prototype);
    expect(back.imported.constructor).toEqual({ k1: { attributes: { a: '1' }, disabled: false } });
    expect((Object as unknown as Record<string, unknown>).k1).toBeUndefined();
    expect(encode(back)).toBe(encode(state));
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
    const cut = all.slice(0, 5).join('\n').length - 10; // inside line 5
    const error = await formatError(decode(text.slice(0, cut)));
    expect(error.message).toBe(`${FILE}:5: not valid JSON; the state file is damaged`);
  });

  it('names the line of a corrupted line in the middle', async () => {
    const all = lines(encode(sampleState()));
    all[5] = all[5]!.slice(0, 20) + '\u0000\u0000garbage';
    const error = await formatError(decode(all.join('\n') + '\n'));
    expect(error.message).toBe(`${FILE}:6: not valid JSON; the state file is damaged`);
  });

  it('names the line of a middle line that is valid JSON but not a record', async () => {
    for (const bad of ['null', '17', '"text"', 'true']) {
      const all = lines(encode(sampleState()));
      all[3] = bad;
      const error = await formatError(decode(all.join('\n') + '\n'));
      expect(error.message).toBe(`${FILE}:4: not a record; the state file is damaged`);
    }
  });

  it('names the line of an unknown record type and of an empty line', async () => {
    const all = lines(encode(sampleState()));
    all[2] = '{"t":"group","v":{}}';
    expect((await formatError(decode(all.join('\n') + '\n'))).message).toBe(`${FILE}:3: unknown record type`);
    const withBlank = lines(encode(sampleState()));
    withBlank.splice(4, 0, '');
    expect((await formatError(decode(withBlank.join('\n') + '\n'))).message).toBe(`${FILE}:5: not valid JSON; the state file is damaged`);
  });

  it('refuses a missing record (count differs from the end marker)', async () => {
    const all = lines(encode(sampleState()));
    all.splice(2, 1);
    const error = await formatError(decode(all.join('\n') + '\n'));
    expect(error.message).toBe(`${FILE}: end marker counts 9 records but 8 were read`);
  });

  it('refuses data after the end marker and a second header, naming the line', async () => {
    const all = lines(encode(sampleState()));
    const after = [...all, '{"t":"user","v":{}}'];
    expect((await formatError(decode(after.join('\n') + '\n'))).message).toBe(`${FILE}:12: data after the end marker`);
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
