import { afterEach, describe, expect, it } from 'vitest';
import { forgetSecrets, redactSecrets, registerSecrets } from './secrets.ts';

afterEach(() => forgetSecrets());

describe('redactSecrets', () => {
  it('replaces a secret as written, percent-encoded, form-encoded and JSON-escaped', () => {
    const secret = 'p@ss word/"quoted"+1';
    registerSecrets([secret]);
    const url = `GET /employees?api_key=${encodeURIComponent(secret)}&x=1`;
    expect(redactSecrets(url)).toBe('GET /employees?api_key=***&x=1');
    expect(redactSecrets(`?k=${new URLSearchParams({ k: secret }).toString().slice(2)}`)).toBe('?k=***');
    expect(redactSecrets(JSON.stringify({ detail: `bad key ${secret}` }))).toBe('{"detail":"bad key ***"}');
    expect(redactSecrets(`said: ${secret}.`)).toBe('said: ***.');
  });

  it('replaces the longer of two secrets whole when one holds the other', () => {
    registerSecrets(['abcd', 'abcdefgh']);
    expect(redactSecrets('x abcdefgh y abcd')).toBe('x *** y ***');
  });

  it('leaves text alone when nothing is registered, and ignores values too short to be secrets', () => {
    expect(redactSecrets('nothing to hide')).toBe('nothing to hide');
    registerSecrets(['on', '1', '']);
    expect(redactSecrets('turned on at 1')).toBe('turned on at 1');
  });
});
