import { describe, expect, it } from 'vitest';
import type { SourceSnapshot } from '../reconciler/model.ts';
import { refuseNul } from './nul-check.ts';

describe('refuseNul', () => {
  it('takes the accounts holding a NUL out, each a row error with its key and attribute, and keeps the rest', () => {
    const snapshot: SourceSnapshot = {
      app: 'ad', fingerprint: 'f', rowErrors: [{ line: 3, message: 'entry 3 has no uid' }],
      accounts: [
        { key: 'ada', attributes: { uid: 'ada', title: 'Eng' } },
        { key: 'bob', attributes: { uid: 'bob', title: 'A\u0000B' } },
        { key: 'c\u0000y', attributes: { uid: 'c\u0000y' } },
        { key: 'dan', attributes: { uid: 'dan', 'we\u0000ird': 'x' }, line: 9 },
        { key: 'eve', attributes: { uid: 'eve', cn: 'Eve \ud83d' }, line: 10 },
      ],
    };
    const out = refuseNul(snapshot, 'the LDAP entry with key');
    expect(out.accounts.map((a) => a.key)).toEqual(['ada']);
    expect(out.rowErrors).toEqual([
      { line: 2, key: 'bob', message: 'the LDAP entry with key "bob" has a NUL character (U+0000) in "title"; no value may hold one, so it is not imported' },
      { line: 3, message: 'entry 3 has no uid' },
      { line: 3, message: 'the LDAP entry with key "c\\\\u0000y" has a NUL character (U+0000) in "uid"; no value may hold one, so it is not imported' },
      { line: 9, key: 'dan', message: 'the LDAP entry with key "dan" has a NUL character (U+0000) in "we\\\\u0000ird"; no value may hold one, so it is not imported' },
      { line: 10, key: 'eve', message: 'the LDAP entry with key "eve" has half of a UTF-16 surrogate pair (a lone \\ud800, say), which is not text in "cn"; no value may hold one, so it is not imported' },
    ]);
  });

  it('returns a snapshot without a NUL as it is', () => {
    const snapshot: SourceSnapshot = { app: 'ad', fingerprint: 'f', rowErrors: [], accounts: [{ key: 'ada', attributes: { uid: 'ada' } }] };
    expect(refuseNul(snapshot, 'the entry')).toBe(snapshot);
  });
});
