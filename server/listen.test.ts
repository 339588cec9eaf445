import { describe, expect, it } from 'vitest';
import { parseListen } from './listen.ts';

describe('parseListen', () => {
  it('reads host:port and [v6]:port, and refuses the rest naming where it came from', () => {
    expect(parseListen('127.0.0.1:8080', 'serve.listen')).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(parseListen('[::1]:0', '--listen')).toEqual({ host: '::1', port: 0 });
    expect(parseListen('localhost:9', '--listen')).toEqual({ host: 'localhost', port: 9 });
    expect(() => parseListen('localhost', '--listen')).toThrow('--listen: expected host:port');
    expect(() => parseListen('h:70000', 'serve.listen')).toThrow('serve.listen: expected host:port');
  });
});
