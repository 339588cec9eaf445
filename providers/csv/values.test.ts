import { describe, expect, it } from 'vitest';
import { attributesTemplate, ColumnValues, detached } from './values.ts';

describe('ColumnValues', () => {
  it('returns a value equal to the one read, for repeated and distinct values alike', () => {
    const values = new ColumnValues(2);
    const text = 'Engineering,Engineering,u1,u2';
    for (let row = 0; row < 20_000; row++) {
      expect(values.value(0, text.slice(0, 11))).toBe('Engineering');
      expect(values.value(1, `user-${row}@example.com`)).toBe(`user-${row}@example.com`);
      values.endRow();
    }
  });

  it('keeps working past many distinct values (the pool grows)', () => {
    const values = new ColumnValues(1);
    for (let i = 0; i < 5000; i++) {
      expect(values.value(0, `v${i % 3000}`)).toBe(`v${i % 3000}`);
      values.endRow();
    }
  });
});

describe('detached', () => {
  it('returns an equal string', () => {
    const long = 'abcdefghijklmnopqrstuvwxyz'.repeat(10);
    expect(detached(long.slice(3, 40))).toBe(long.slice(3, 40));
    expect(detached('short')).toBe('short');
    expect(detached('')).toBe('');
  });
});

describe('attributesTemplate', () => {
  it('makes objects with the columns in order, each empty, independent of each other', () => {
    const make = attributesTemplate(['id', 'name', 'email']);
    const a = make();
    const b = make();
    a.name = 'Ann';
    expect(Object.keys(a)).toEqual(['id', 'name', 'email']);
    expect(b).toEqual({ id: '', name: '', email: '' });
  });

  it('keeps a column named like an Object.prototype member as an own property', () => {
    const a = attributesTemplate(['__proto__', 'constructor', 'toString'])();
    for (const [column, value] of [['__proto__', 'x'], ['constructor', 'y']] as const) a[column] = value;
    expect(Object.keys(a)).toEqual(['__proto__', 'constructor', 'toString']);
    expect(Object.getPrototypeOf(a)).toBe(Object.prototype);
    expect(JSON.parse(JSON.stringify(a))).toEqual(JSON.parse('{"__proto__":"x","constructor":"y","toString":""}'));
  });
});
