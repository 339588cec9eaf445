/**
 * A UTF-8 file read as bytes, one character per byte (Node's 'latin1'), which Node decodes several times
 * faster than UTF-8 and always into compact one-byte strings. When the CSV syntax characters are ASCII,
 * the rows and fields found in that text are those of the decoded file, since no byte of a multi-byte
 * UTF-8 sequence is ASCII; only the values holding a byte of 0x80 or more are then decoded, one by one.
 * Trimming must see Unicode blanks, several bytes long in that text: blankLength knows them. Each
 * function also takes text of real characters (`bytes` false), for a syntax character beyond ASCII.
 */

const HIGH = /[\x80-\xff]/;
const HIGH_FROM = /[\x80-\xff]/g;

/** Whether every syntax character is ASCII, so that the file can be read as bytes. */
export function asciiSyntax(...chars: string[]): boolean {
  return chars.every((c) => c.charCodeAt(0) < 0x80);
}

/** Where the next byte of 0x80 or more is at or after `from`, or `text.length`. */
export function nextHighByte(text: string, from: number): number {
  HIGH_FROM.lastIndex = from;
  return HIGH_FROM.test(text) ? HIGH_FROM.lastIndex - 1 : text.length;
}

/**
 * Stands for bytes that are not UTF-8 in a decoded value: a lone low surrogate, which no decoding of
 * UTF-8 ever yields, so a row holding one is known to be unreadable (records.ts refuses it, naming the
 * column) where U+FFFD could be a real character.
 */
export const NOT_UTF8 = '\udfff';

const REPLACEMENT = '\ufffd';
/** U+FFFD as UTF-8 bytes, one character per byte. */
const REPLACEMENT_BYTES = '\xef\xbf\xbd';

/** How many values were found holding bytes that are not UTF-8, by any reader (rows.ts looks then). */
let notUtf8Values = 0;
export const notUtf8Count = (): number => notUtf8Values;

/** The value of a UTF-8 byte text; bytes that are not UTF-8 become NOT_UTF8. */
export function decodeBytes(value: string): string {
  return HIGH.test(value) ? utf8(value) : value;
}

/** decodeBytes for a value known to hold a byte of 0x80 or more. */
export function utf8(value: string): string {
  const text = Buffer.from(value, 'latin1').toString('utf8');
  return text.includes(REPLACEMENT) ? markNotUtf8(text, genuineReplacements(value)) : text;
}

/** The real U+FFFD characters in UTF-8 bytes: a byte text (one character per byte) or a Buffer. */
export function genuineReplacements(bytes: string | Buffer): number {
  return typeof bytes === 'string' ? count(bytes, REPLACEMENT_BYTES, REPLACEMENT_BYTES.length) : count(bytes, REPLACEMENT, REPLACEMENT_BYTES.length);
}

/**
 * Decoded text in which Node put U+FFFD for bytes that are not UTF-8, with `genuine` of them the real
 * character: when none is, each becomes NOT_UTF8. When some are, a value (`value`) gets one NOT_UTF8 in
 * front; a whole chunk of text has every U+FFFD marked, since which one was real cannot be told.
 */
export function markNotUtf8(text: string, genuine: number, value = true): string {
  const replaced = count(text, REPLACEMENT);
  if (replaced === genuine) return text;
  notUtf8Values += 1;
  return genuine === 0 || !value ? text.replaceAll(REPLACEMENT, NOT_UTF8) : NOT_UTF8 + text;
}

/** Occurrences of `part` in `text`, each `width` units long there (a Buffer searches for its UTF-8 bytes). */
function count(text: { indexOf(part: string, from?: number): number }, part: string, width = part.length): number {
  let n = 0;
  for (let i = text.indexOf(part); i !== -1; i = text.indexOf(part, i + width)) n++;
  return n;
}

/**
 * utf8(), remembering the values it decoded lately: the values beyond ASCII are mostly names, which
 * repeat, and a Map lookup costs a fraction of a decoding.
 */
export class Utf8Values {
  private decoded = new Map<string, string>();

  decode(value: string): string {
    let text = this.decoded.get(value);
    if (text === undefined) {
      text = utf8(value);
      // Forget them all now and then: the keys are slices of the text read, which they keep alive.
      if (this.decoded.size >= 4096) this.decoded = new Map();
      this.decoded.set(value, text);
    }
    return text;
  }
}

/** The character at `i`, decoded, for messages. */
export function charAt(text: string, i: number, bytes: boolean): string {
  if (!bytes || text.charCodeAt(i) < 0x80) return text.charAt(i);
  return String.fromCodePoint(decodeBytes(text.slice(i, i + 4)).codePointAt(0) ?? 0xfffd);
}

/**
 * The length of the blank at `i` (whitespace that trim drops: String.prototype.trim's set, which is also
 * csv-parse's), 0 if none. Line breaks are no blanks here (they end a row), nor is the delimiter (a tab,
 * say).
 */
export function blankLength(text: string, i: number, delimiter: number, bytes: boolean): number {
  const c = text.charCodeAt(i);
  if (c === delimiter) return 0;
  if (c <= 32) return c === 32 || c === 9 || c === 11 || c === 12 ? 1 : 0;
  if (c < 0x80) return 0;
  if (!bytes) {
    const blank = c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;
    return blank ? 1 : 0;
  }
  const c1 = text.charCodeAt(i + 1);
  const c2 = text.charCodeAt(i + 2);
  switch (c) {
    case 0xc2: // U+00A0
      return c1 === 0xa0 ? 2 : 0;
    case 0xe1: // U+1680
      return c1 === 0x9a && c2 === 0x80 ? 3 : 0;
    case 0xe2: // U+2000-200A, U+2028, U+2029, U+202F, U+205F
      if (c1 === 0x80) return (c2 >= 0x80 && c2 <= 0x8a) || c2 === 0xa8 || c2 === 0xa9 || c2 === 0xaf ? 3 : 0;
      return c1 === 0x81 && c2 === 0x9f ? 3 : 0;
    case 0xe3: // U+3000
      return c1 === 0x80 && c2 === 0x80 ? 3 : 0;
    case 0xef: // U+FEFF
      return c1 === 0xbb && c2 === 0xbf ? 3 : 0;
    default:
      return 0;
  }
}
