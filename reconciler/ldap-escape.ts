/**
 * LDAP escaping, pure and shared: the core builds the DNs it puts in a plan with these, and the ldap
 * provider builds its search filters and compares DNs with them.
 *
 * Contract
 *   escapeFilterValue(v)  RFC 4515 assertion value: `*` `(` `)` `\` NUL and every non-ASCII character
 *                         become \XX (lower-case hex of their UTF-8 bytes); ASCII control characters
 *                         too. The result never contains a character that ends or widens a filter.
 *   escapeDnValue(v)      RFC 4514 attribute value: `"` `+` `,` `;` `<` `>` `=` get a backslash; a leading
 *                         `#` or space and a trailing space get one; `\` becomes \5c (not `\\`, which
 *                         ldapts's modifyDN would split wrongly before a comma) and NUL \00. Non-ASCII is
 *                         kept as UTF-8, as RFC 4514 allows. The empty string stays empty.
 *   parseDn(dn)           the RDNs of a string DN, first (leaf) to last, each a list of { type, value }
 *                         with the value unescaped (\XX sequences decoded as UTF-8 bytes). Throws
 *                         DnSyntaxError for a DN that is not RFC 4514 (a missing `=`, a dangling `\`).
 *   normalizeDn(dn)       a comparable form: types lower-cased, values unescaped, lower-cased and trimmed,
 *                         re-escaped; multi-valued RDNs sorted. Two DNs that differ only in escaping,
 *                         spacing around separators or case normalise the same. (Case-insensitive like
 *                         the naming attributes uid, cn, ou, dc; not for case-exact naming attributes.)
 *   sameDn(a, b)          normalizeDn(a) === normalizeDn(b); a DN that does not parse equals nothing.
 *   buildDn(rdn, value, parent)  `${rdn}=${escapeDnValue(value)},${parent}` (no comma for an empty parent).
 */

const utf8 = new TextEncoder();
const utf8Decode = new TextDecoder('utf-8');

export class DnSyntaxError extends Error {
  readonly code = 'DN_SYNTAX';
}

export function escapeFilterValue(value: string): string {
  let out = '';
  for (const ch of value) {
    const code = ch.codePointAt(0)!;
    if (ch === '*' || ch === '(' || ch === ')' || ch === '\\' || code < 0x20 || code >= 0x7f) {
      for (const byte of utf8.encode(ch)) out += `\\${byte.toString(16).padStart(2, '0')}`;
    } else {
      out += ch;
    }
  }
  return out;
}

const DN_SPECIAL = new Set(['"', '+', ',', ';', '<', '>', '=']);

export function escapeDnValue(value: string): string {
  let out = '';
  const chars = [...value];
  chars.forEach((ch, i) => {
    if (ch === '\\') out += '\\5c';
    else if (ch === '\u0000') out += '\\00';
    else if (DN_SPECIAL.has(ch)) out += `\\${ch}`;
    else if (i === 0 && (ch === '#' || ch === ' ')) out += `\\${ch}`;
    else if (i === chars.length - 1 && ch === ' ') out += '\\ ';
    else out += ch;
  });
  return out;
}

export function buildDn(rdnAttribute: string, value: string, parent: string): string {
  const rdn = `${rdnAttribute}=${escapeDnValue(value)}`;
  return parent.trim() === '' ? rdn : `${rdn},${parent}`;
}

export interface DnComponent {
  type: string;
  value: string;
}

const HEX = /^[0-9a-fA-F]{2}$/;

/** Parses an RFC 4514 DN. `#hex` (BER) values are kept as written, `#` included. */
export function parseDn(dn: string): DnComponent[][] {
  const rdns: DnComponent[][] = [];
  if (dn.trim() === '') return rdns;
  let i = 0;
  let rdn: DnComponent[] = [];
  const fail = (why: string): never => {
    throw new DnSyntaxError(`not a valid DN (${why}): ${JSON.stringify(dn)}`);
  };
  for (;;) {
    while (dn[i] === ' ') i++;
    const eq = dn.indexOf('=', i);
    if (eq < 0) fail('an RDN has no "="');
    const type = dn.slice(i, eq).trim();
    if (!/^(?:[A-Za-z][A-Za-z0-9-]*|\d+(?:\.\d+)*)$/.test(type)) fail(`bad attribute type ${JSON.stringify(type)}`);
    i = eq + 1;
    while (dn[i] === ' ') i++;
    const bytes: number[] = [];
    let lastSignificant = 0; // bytes.length after the last character that was escaped or not a space
    while (i < dn.length && dn[i] !== ',' && dn[i] !== '+' && dn[i] !== ';') {
      const ch = dn[i]!;
      if (ch === '\\') {
        const pair = dn.slice(i + 1, i + 3);
        if (HEX.test(pair)) {
          bytes.push(Number.parseInt(pair, 16));
          i += 3;
        } else if (i + 1 < dn.length) {
          bytes.push(...utf8.encode(String.fromCodePoint(dn.codePointAt(i + 1)!)));
          i += String.fromCodePoint(dn.codePointAt(i + 1)!).length + 1;
        } else {
          fail('a dangling "\\"');
        }
        lastSignificant = bytes.length;
      } else {
        const cp = String.fromCodePoint(dn.codePointAt(i)!);
        bytes.push(...utf8.encode(cp));
        if (cp !== ' ') lastSignificant = bytes.length;
        i += cp.length;
      }
    }
    rdn.push({ type, value: utf8Decode.decode(new Uint8Array(bytes.slice(0, lastSignificant))) });
    if (i >= dn.length) break;
    if (dn[i] !== '+') {
      rdns.push(rdn);
      rdn = [];
    }
    i++;
  }
  rdns.push(rdn);
  return rdns;
}

export function normalizeDn(dn: string): string {
  return parseDn(dn)
    .map((rdn) => rdn
      .map((c) => `${c.type.toLowerCase()}=${escapeDnValue(c.value.trim().toLowerCase())}`)
      .sort()
      .join('+'))
    .join(',');
}

export function sameDn(a: string, b: string): boolean {
  try {
    return normalizeDn(a) === normalizeDn(b);
  } catch {
    return false;
  }
}
