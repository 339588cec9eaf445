/**
 * The ldap provider's pure parts: filter parsing (the bytes sent), entry flattening, the attribute list,
 * GUIDs, and error text. The provider against a real server is in test/ldap.test.ts.
 */
import { BerWriter, EqualityFilter, InvalidCredentialsError, SubstringFilter, type AndFilter, type Filter } from 'ldapts';
import { describe, expect, it } from 'vitest';
import type { LdapApp } from '../../schemas/generated/config.ts';
import { escapeFilterValue } from '../../reconciler/ldap-escape.ts';
import { ldapError, ldapFilter } from './connection.ts';
import { attributesToRead, entryAttributes, guidString } from './read.ts';

function bytesOf(filter: Filter): Buffer {
  const writer = new BerWriter();
  filter.write(writer);
  return writer.buffer;
}

describe('ldapFilter', () => {
  it('sends \\XX escapes as bytes and raw non-ASCII as UTF-8, so both spellings are the same filter', () => {
    const escaped = ldapFilter(`(cn=${escapeFilterValue('Zoë *)(uid=*')})`) as EqualityFilter;
    expect(Buffer.isBuffer(escaped.value)).toBe(true);
    expect((escaped.value as Buffer).toString('utf8')).toBe('Zoë *)(uid=*');
    expect(bytesOf(ldapFilter('(cn=Zoë)'))).toEqual(bytesOf(ldapFilter('(cn=Zo\\c3\\ab)')));
  });

  it('keeps binary equality values (objectGUID) byte for byte', () => {
    const f = ldapFilter('(objectGUID=\\01\\ff\\00\\80)') as EqualityFilter;
    expect([...(f.value as Buffer)]).toEqual([0x01, 0xff, 0x00, 0x80]);
  });

  it('decodes substring and ordering values as UTF-8 text', () => {
    const and = ldapFilter('(&(objectClass=inetOrgPerson)(cn=Zo\\c3\\ab*)(modifyTimestamp>=20240101000000Z))') as AndFilter;
    expect((and.filters[1] as SubstringFilter).initial).toBe('Zoë');
    expect(() => ldapFilter('(cn=\\ff*)')).toThrow(/binary/);
  });

  it('refuses malformed filters', () => {
    expect(() => ldapFilter('(uid=a')).toThrow();
    expect(() => ldapFilter('(uid=a(b))')).toThrow();
  });
});

describe('entryAttributes', () => {
  it('flattens to first values, fills asked-for absent attributes with "", keeps the config spelling, adds dn', () => {
    const entry = { dn: 'uid=a,ou=people,dc=x', uid: 'a', mail: ['a@x', 'a2@x'], givenname: [], TITLE: 'Boss' };
    expect(entryAttributes(entry, ['uid', 'mail', 'givenName', 'title', 'telephoneNumber'])).toEqual({
      uid: 'a', mail: 'a@x', givenName: '', title: 'Boss', telephoneNumber: '', dn: 'uid=a,ou=people,dc=x',
    });
  });

  it('reads objectGUID as a GUID string and other binary values as hex; pads a counter watermark', () => {
    const guid = Buffer.from('0102030405060708090a0b0c0d0e0f10', 'hex');
    const entry = { dn: 'cn=a,dc=x', objectGUID: guid, objectSid: Buffer.from([1, 5, 0]), uSNChanged: '12345' };
    expect(entryAttributes(entry, null, 'uSNChanged')).toEqual({
      objectGUID: '04030201-0605-0807-090a-0b0c0d0e0f10', objectSid: '010500', uSNChanged: '00000000000000012345', dn: 'cn=a,dc=x',
    });
    expect(guidString(guid)).toBe('04030201-0605-0807-090a-0b0c0d0e0f10');
  });
});

describe('attributesToRead', () => {
  const app = (extra: Partial<LdapApp> = {}): LdapApp => ({ provider: 'ldap', connection: { url: 'ldap://x', baseDN: 'dc=x' }, ...extra });

  it('asks for what the config uses: key, watermark, mappings, disabled, match rules, provision', () => {
    const config = app({
      import: {
        mode: 'incremental', watermark: 'modifyTimestamp', disabled: 'app.?nsAccountLock.orValue("") == "true"',
        match: [{ app: 'employeeNumber', user: 'employeeNumber' }, { expression: { app: 'app["mail"].lowerAscii()', user: 'user.email' } }],
        mappings: { login: 'app.mail', firstName: 'app.givenName', lastName: 'has(app.sn) ? app.sn : ""' },
      },
      provision: { mappings: { uid: 'user.login', cn: 'user.firstName' }, status: { attribute: 'description' }, dn: { rdn: 'cn', parent: '"dc=x"' } },
    });
    expect(attributesToRead(config, 'uid', 'modifyTimestamp')).toEqual([
      'uid', 'modifyTimestamp', 'cn', 'description', 'employeeNumber', 'mail', 'givenName', 'sn', 'nsAccountLock',
    ]);
  });

  it('reads everything when an expression uses app as a whole, and always userAccountControl for ad', () => {
    expect(attributesToRead(app({ import: { mappings: { login: '"mail" in app ? app.mail : ""' } } }), 'uid')).toBeNull();
    expect(attributesToRead(app({ import: { mappings: { login: '"app" + app.mail' } } }), 'uid')).toEqual(['uid', 'mail']);
    expect(attributesToRead(app({ connection: { url: 'ldap://x', baseDN: 'dc=x', flavor: 'ad', attributes: ['sAMAccountName'] } }), 'objectGUID'))
      .toEqual(['objectGUID', 'userAccountControl', 'sAMAccountName']);
  });
});

describe('ldapError', () => {
  it('names the LDAP result and never repeats the password', () => {
    expect(ldapError(new InvalidCredentialsError(''))).toBe('invalid credentials (LDAP result 49)');
    expect(ldapError(new Error('bad thing hunter22 happened'), 'hunter22')).toBe('bad thing *** happened');
  });
});
