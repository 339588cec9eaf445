import { describe, expect, it } from 'vitest';
import { baseParams, padWatermark, serverWatermark, withParams } from './query.ts';

describe('withParams', () => {
  it('adds parameters, replacing those the URL already has and keeping the rest as written', () => {
    const url = new URL('https://hr.example/api/v1/employees?status=all&page=7&x=a%2Cb');
    expect(withParams(url, { page: '2', per_page: '100' }).href).toBe('https://hr.example/api/v1/employees?status=all&x=a%2Cb&page=2&per_page=100');
  });

  it('encodes values, a space as %20, and leaves a URL without parameters clean', () => {
    expect(withParams(new URL('https://hr.example/e'), { q: 'a b&c=d' }).search).toBe('?q=a%20b%26c%3Dd');
    expect(withParams(new URL('https://hr.example/e'), {}).href).toBe('https://hr.example/e');
  });
});

describe('baseParams', () => {
  const connection = { url: 'https://hr.example/e', query: { status: 'all', limit: 5, active: true }, since: { param: 'updated_since' } };

  it('carries the fixed query, and since only with a stored watermark', () => {
    expect(baseParams(connection, null)).toEqual({ status: 'all', limit: '5', active: 'true' });
    expect(baseParams(connection, '2024-05-01T10:00:00Z')).toEqual({ status: 'all', limit: '5', active: 'true', updated_since: '2024-05-01T10:00:00Z' });
  });

  it('sends a counter watermark without the padding the reader added', () => {
    expect(baseParams(connection, padWatermark('1234'))).toMatchObject({ updated_since: '1234' });
    expect(baseParams({ url: 'https://hr.example/e' }, '5')).toEqual({});
  });
});

describe('watermarks', () => {
  it('pads counters so that they sort as strings, and nothing else', () => {
    expect(padWatermark('9') < padWatermark('10')).toBe(true);
    expect(padWatermark('2024-05-01T10:00:00Z')).toBe('2024-05-01T10:00:00Z');
    expect(serverWatermark('00000000000000000000')).toBe('0');
    expect(serverWatermark(padWatermark('77'))).toBe('77');
  });
});
