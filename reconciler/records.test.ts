import { describe, expect, it } from 'vitest';
import { matchesPacked, packValues, snapshotColumns, unpackValues } from './records.ts';

const columns = ['id', 'name', 'note', 'empty', 'last'];

describe('packed records', () => {
  it('pack in column order, absent as empty, trailing empty values left out, and unpack to every column', () => {
    expect(packValues(columns, { name: 'Zoë', id: '1' })).toBe('["1","Zoë"]');
    expect(packValues(columns, { id: '1', note: '', last: '' })).toBe('["1"]');
    expect(packValues(columns, {})).toBe('[]');
    expect(unpackValues(columns, '["1","Zoë"]')).toEqual({ id: '1', name: 'Zoë', note: '', empty: '', last: '' });
    const odd = unpackValues(['__proto__'], '["x"]');
    expect(Object.hasOwn(odd, '__proto__')).toBe(true);
    expect(() => unpackValues(['a'], '["x","y"]')).toThrow('does not fit its 1 columns');
  });

  it('tell a packed record equal exactly when packing the attributes gives it', () => {
    const values = ['', 'plain', 'with "quotes"', 'back\\slash', 'tab\there', 'line\nbreak', 'Zoë Łukasiewicz 東京', '🚀', '\u0000', 'x'];
    let cases = 0;
    for (let seed = 1; seed < 400; seed++) {
      const pick = (i: number) => values[(seed * 7 + i * 13) % values.length]!;
      const a: Record<string, string> = {};
      const b: Record<string, string> = {};
      columns.forEach((c, i) => {
        a[c] = pick(i);
        b[c] = seed % 3 === 0 && i === seed % columns.length ? pick(i + 1) : pick(i);
      });
      const packed = packValues(columns, b);
      expect(matchesPacked(columns, a, packed)).toBe(packValues(columns, a) === packed);
      cases += 1;
    }
    expect(cases).toBeGreaterThan(300);
    expect(matchesPacked(columns, { id: '1' }, '["1",""]')).toBe(false); // not what packing gives (trailing empty kept)
    expect(matchesPacked(columns, { id: '1' }, '["1"')).toBe(false);
    expect(matchesPacked(columns, { id: '12' }, '["1"]')).toBe(false);
  });

  it('extend the stored columns with the names a snapshot adds, and keep the same array when none is new', () => {
    const stored = ['id', 'name'];
    expect(snapshotColumns(stored, { columns: ['name', 'id'], accounts: [] })).toBe(stored);
    expect(snapshotColumns(stored, { columns: ['title', 'id'], accounts: [] })).toEqual(['id', 'name', 'title']);
    expect(snapshotColumns(undefined, { accounts: [{ key: 'k', attributes: { b: '1', a: '2' } }, { key: 'l', attributes: { c: '3', a: '' } }] })).toEqual(['b', 'a', 'c']);
  });
});
