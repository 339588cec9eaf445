/** LDAP filter (RFC 4515) and DN (RFC 4514) escaping with hostile values. */
import { describe, expect, it } from 'vitest';
import { buildDn, DnSyntaxError, escapeDnValue, escapeFilterValue, normalizeDn, parseDn, sameDn } from './ldap-escape.ts';

const HOSTILE = ['*)(uid=*))(|(uid=*', '\\', ',+"<>;=', '#admin', ' lead', 'trail ', 'nul\u0000byte', 'Zoë Ωmega 名前 🙂', '*', '()', 'a\\2a'];

describe('escapeFilterValue', () => {
  it('escapes the filter metacharacters, NUL and non-ASCII as \\XX', () => {
    expect(escapeFilterValue('*)(uid=*))(|(uid=*')).toBe('\\2a\\29\\28uid=\\2a\\29\\29\\28|\\28uid=\\2a');
    expect(escapeFilterValue('\\')).toBe('\\5c');
    expect(escapeFilterValue('a\\2a')).toBe('a\\5c2a');
    expect(escapeFilterValue('nul\u0000byte')).toBe('nul\\00byte');
    expect(escapeFilterValue('Zoë')).toBe('Zo\\c3\\ab');
    expect(escapeFilterValue('🙂')).toBe('\\f0\\9f\\99\\82');
    expect(escapeFilterValue(',+"<>;=# ')).toBe(',+"<>;=# ');
    expect(escapeFilterValue('')).toBe('');
  });

  it('never leaves a character that ends, widens or nests a filter', () => {
    for (const value of HOSTILE) {
      const escaped = escapeFilterValue(value);
      expect(escaped).not.toMatch(/[*()]/);
      expect(escaped.includes('\u0000')).toBe(false);
      expect(escaped).not.toMatch(/[^\x20-\x7e]/);
      // Every backslash starts a two-digit hex escape.
      expect(escaped.replace(/\\[0-9a-f]{2}/g, '')).not.toContain('\\');
      // And decoding the escapes gives the value back.
      const bytes: number[] = [];
      for (let i = 0; i < escaped.length;) {
        if (escaped[i] === '\\') {
          bytes.push(Number.parseInt(escaped.slice(i + 1, i + 3), 16));
          i += 3;
        } else {
          bytes.push(escaped.charCodeAt(i));
          i += 1;
        }
      }
      expect(Buffer.from(bytes).toString('utf8')).toBe(value);
    }
  });
});

describe('escapeDnValue', () => {
  it('escapes the RFC 4514 specials, a leading # or space, a trailing space and NUL', () => {
    expect(escapeDnValue(',+"<>;=')).toBe('\\,\\+\\"\\<\\>\\;\\=');
    expect(escapeDnValue('\\')).toBe('\\5c');
    expect(escapeDnValue('#admin')).toBe('\\#admin');
    expect(escapeDnValue('a#b')).toBe('a#b');
    expect(escapeDnValue(' lead')).toBe('\\ lead');
    expect(escapeDnValue('trail ')).toBe('trail\\ ');
    expect(escapeDnValue(' ')).toBe('\\ ');
    expect(escapeDnValue('in side')).toBe('in side');
    expect(escapeDnValue('nul\u0000byte')).toBe('nul\\00byte');
    expect(escapeDnValue('Zoë 名前')).toBe('Zoë 名前');
    expect(escapeDnValue('*)(uid=*))(|(uid=*')).toBe('*)(uid\\=*))(|(uid\\=*');
  });

  it('round-trips through parseDn for every hostile value, as one RDN', () => {
    for (const value of HOSTILE) {
      const dn = buildDn('cn', value, 'ou=people,dc=example,dc=com');
      const rdns = parseDn(dn);
      expect(rdns).toHaveLength(4);
      expect(rdns[0]).toEqual([{ type: 'cn', value }]);
      expect(rdns[1]).toEqual([{ type: 'ou', value: 'people' }]);
    }
  });

  it('never leaves \\\\ before a comma (ldapts modifyDN splits there)', () => {
    for (const value of HOSTILE) expect(buildDn('cn', value, 'dc=x')).not.toMatch(/\\\\,/);
  });
});

describe('parseDn, normalizeDn, sameDn', () => {
  it('reads hex escapes, escaped specials, multi-valued RDNs and spaces around separators', () => {
    expect(parseDn('cn=Zo\\C3\\AB\\2C Lee+uid=z1 , ou = people,dc=example')).toEqual([
      [{ type: 'cn', value: 'Zoë, Lee' }, { type: 'uid', value: 'z1' }],
      [{ type: 'ou', value: 'people' }],
      [{ type: 'dc', value: 'example' }],
    ]);
    expect(parseDn('')).toEqual([]);
  });

  it('compares DNs the way the server writes them back', () => {
    // What OpenLDAP returns for an entry added as cn=\#Evil *)(uid=*\,\+\"\5c Zoë\ ,...
    const server = 'cn=\\23Evil *)(uid\\3D*\\2C\\2B\\22\\5C Zoë\\20,ou=people,dc=example,dc=com';
    const ours = buildDn('cn', '#Evil *)(uid=*,+"\\ Zoë ', 'ou=people,dc=example,dc=com');
    expect(sameDn(server, ours)).toBe(true);
    expect(sameDn('CN=Ann Lee, OU=People,DC=example,DC=com', 'cn=ann lee,ou=people,dc=example,dc=com')).toBe(true);
    expect(sameDn('uid=a+cn=b,dc=x', 'cn=b+uid=a,dc=x')).toBe(true);
    expect(sameDn('cn=Ann Lee,ou=eng,dc=x', 'cn=Ann Lee,ou=sales,dc=x')).toBe(false);
    expect(sameDn('cn=a\\,b,dc=x', 'cn=a,b=c,dc=x')).toBe(false);
    expect(sameDn('not a dn', 'not a dn')).toBe(false);
    expect(normalizeDn('CN=A\\2cB ,DC=X')).toBe('cn=a\\,b,dc=x');
  });

  it('refuses what is not a DN', () => {
    expect(() => parseDn('ou=people,nonsense')).toThrow(DnSyntaxError);
    expect(() => parseDn('cn=trailing\\')).toThrow(DnSyntaxError);
    expect(() => parseDn('=x')).toThrow(DnSyntaxError);
  });
});
