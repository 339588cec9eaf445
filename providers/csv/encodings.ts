/**
 * Writing a CSV target in the connection's encoding (read.ts reads it back with Node's decoders): UTF-8
 * and UTF-16LE hold every character; latin1 holds U+0000-U+00FF; windows-1252 is latin1 with 27 of the
 * C1 controls (0x80-0x9F) given to €, curly quotes, dashes and a few letters. Its table is taken from
 * Node's own WHATWG decoder, not written out here. A value an encoding cannot hold fails its account's
 * change, naming the character, instead of being written as '?'.
 */
import type { CsvConnection } from '../../schemas/generated/config.ts';

export type CsvEncoding = NonNullable<CsvConnection['encoding']>;

let cp1252: Map<string, number> | null = null;
/** windows-1252's characters outside latin1's, each to its byte. */
function windows1252(): Map<string, number> {
  if (!cp1252) {
    const decoder = new TextDecoder('windows-1252');
    cp1252 = new Map();
    for (let byte = 0x80; byte <= 0x9f; byte++) cp1252.set(decoder.decode(Uint8Array.of(byte)), byte);
  }
  return cp1252;
}

const BEYOND_LATIN1 = /[\u0100-\u{10ffff}]/u;

/** The windows-1252 byte of `char`, or undefined when it has none. */
function windows1252Byte(char: string, table: Map<string, number>): number | undefined {
  const code = char.codePointAt(0)!;
  return code < 0x80 || (code >= 0xa0 && code <= 0xff) ? code : table.get(char);
}

/** The first character of `value` that `encoding` cannot hold, or null. */
export function unencodable(value: string, encoding: CsvEncoding): string | null {
  if (encoding === 'utf-8' || encoding === 'utf-16le') return null;
  if (encoding === 'latin1') return BEYOND_LATIN1.exec(value)?.[0] ?? null;
  const table = windows1252();
  for (const char of value) if (windows1252Byte(char, table) === undefined) return char;
  return null;
}

/** `text` as the bytes of `encoding` (every character of it encodable: see unencodable). */
export function encode(text: string, encoding: CsvEncoding): Buffer {
  switch (encoding) {
    case 'utf-8': return Buffer.from(text, 'utf8');
    case 'utf-16le': return Buffer.from(text, 'utf16le');
    case 'latin1': return Buffer.from(text, 'latin1');
    case 'windows-1252': {
      if (!/[\u0080-\u009f\u0100-\u{10ffff}]/u.test(text)) return Buffer.from(text, 'latin1');
      const table = windows1252();
      const out = Buffer.alloc(text.length);
      let n = 0;
      for (const char of text) out[n++] = windows1252Byte(char, table) ?? 0x3f;
      return out.subarray(0, n);
    }
  }
}

/** What a file in `encoding` starts with when idplane writes it: a BOM for UTF-16LE (Excel needs it). */
export function preamble(encoding: CsvEncoding): Buffer {
  return encoding === 'utf-16le' ? Buffer.from([0xff, 0xfe]) : Buffer.alloc(0);
}
