import { describe, expect, it } from 'vitest';
import { countAt, DottedPathError, kindOf, parseDottedPath, readPath } from './paths.ts';

describe('parseDottedPath', () => {
  it('splits on dots', () => {
    expect(parseDottedPath('id')).toEqual(['id']);
    expect(parseDottedPath('data.employees')).toEqual(['data', 'employees']);
  });

  it('refuses empty segments', () => {
    for (const bad of ['', '.a', 'a.', 'a..b']) expect(() => parseDottedPath(bad)).toThrow(DottedPathError);
  });
});

describe('readPath', () => {
  const page = { data: { employees: [{ id: 1 }], meta: null }, total: 3 };

  it('walks objects', () => {
    expect(readPath(page, ['data', 'employees'])).toEqual([{ id: 1 }]);
    expect(readPath(page, [])).toBe(page);
    expect(readPath(page, ['data', 'meta'])).toBeNull();
  });

  it('gives undefined for a missing member, a walk through an array or a scalar, and inherited names', () => {
    expect(readPath(page, ['data', 'nope'])).toBeUndefined();
    expect(readPath(page, ['data', 'employees', '0'])).toBeUndefined();
    expect(readPath(page, ['total', 'x'])).toBeUndefined();
    expect(readPath(page, ['constructor'])).toBeUndefined();
    expect(readPath({}, ['__proto__'])).toBeUndefined();
  });
});

describe('countAt and kindOf', () => {
  it('reads a count from a number or a string of digits', () => {
    expect(countAt({ meta: { total: 250 } }, ['meta', 'total'])).toBe(250);
    expect(countAt({ total: ' 12 ' }, ['total'])).toBe(12);
    expect(countAt({ total: -1 }, ['total'])).toBeUndefined();
    expect(countAt({ total: 1.5 }, ['total'])).toBeUndefined();
    expect(countAt({ total: 'many' }, ['total'])).toBeUndefined();
    expect(countAt({}, ['total'])).toBeUndefined();
  });

  it('names kinds for messages', () => {
    expect([undefined, null, [], {}, 'x', 1, true].map(kindOf)).toEqual(['absent', 'null', 'an array', 'an object', 'a string', 'a number', 'a boolean']);
  });
});
