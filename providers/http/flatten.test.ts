import { describe, expect, it } from 'vitest';
import { flattenFields, flattenRecord } from './flatten.ts';

describe('flattenRecord', () => {
  it('names nested members by dotted paths and turns scalars into text', () => {
    expect(flattenRecord({
      id: 1017, name: 'Zoë Müller', active: true, salary: 1234.5, manager: null,
      address: { city: 'Oslo', geo: { lat: 59.91 } },
    })).toEqual({ id: '1017', name: 'Zoë Müller', active: 'true', salary: '1234.5', manager: '', 'address.city': 'Oslo', 'address.geo.lat': '59.91' });
  });

  it('joins a list of scalars with ", ", leaving nulls out; an empty list is empty', () => {
    expect(flattenRecord({ groups: ['Engineering', 'Managers'], codes: [1, null, true], none: [] })).toEqual({ groups: 'Engineering, Managers', codes: '1, true', none: '' });
  });

  it('keeps a list that holds objects or lists as its JSON text', () => {
    expect(flattenRecord({ phones: [{ type: 'work', value: '+47 1' }], matrix: [[1], [2]], mixed: ['a', { b: 1 }] })).toEqual({
      phones: '[{"type":"work","value":"+47 1"}]', matrix: '[[1],[2]]', mixed: '["a",{"b":1}]',
    });
  });

  it('gives an empty object nothing, and lets the first of two equal names win', () => {
    expect(flattenRecord({ extra: {}, 'a.b': 'literal', a: { b: 'nested' } })).toEqual({ 'a.b': 'literal' });
  });

  it('keeps member names such as __proto__ as plain own attributes', () => {
    const out = flattenRecord(JSON.parse('{"__proto__": "x", "constructor": {"name": "y"}}') as Record<string, unknown>);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.keys(out)).toEqual(['__proto__', 'constructor.name']);
    expect(out['constructor.name']).toBe('y');
  });
});

describe('flattenFields', () => {
  it('reports each attribute\'s shape in the record\'s order', () => {
    expect(flattenFields({ id: 'a', tags: ['x'], phones: [{ v: 1 }], address: { city: null } })).toEqual([
      { name: 'id', value: 'a', shape: 'scalar' },
      { name: 'tags', value: 'x', shape: 'list' },
      { name: 'phones', value: '[{"v":1}]', shape: 'json' },
      { name: 'address.city', value: '', shape: 'scalar' },
    ]);
  });
});
