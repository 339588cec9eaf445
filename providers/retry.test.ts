import { describe, expect, it } from 'vitest';
import { AdaptiveLimit, CircuitBreaker, CircuitOpenError, forEachWithWorkers, RetryPolicy, retryAfter } from './retry.ts';

describe('RetryPolicy', () => {
  const settings = { retries: 3, baseDelayMs: 100, maxDelayMs: 1_000, maxRetryAfterMs: 5_000 };

  it('allows a bounded number of retries', () => {
    const p = new RetryPolicy(settings);
    expect([0, 1, 2, 3].map((a) => p.canRetry(a))).toEqual([true, true, true, false]);
  });

  it('backs off exponentially, with jitter between half and all of each step, capped', () => {
    expect([1, 2, 3, 4, 5].map((n) => new RetryPolicy(settings, () => 0).delay(n))).toEqual([50, 100, 200, 400, 500]);
    expect([1, 2, 3, 4, 5].map((n) => new RetryPolicy(settings, () => 1).delay(n))).toEqual([100, 200, 400, 800, 1000]);
  });

  it('waits as Retry-After says instead, up to its cap', () => {
    const p = new RetryPolicy(settings, () => 0);
    expect(p.delay(1, 2_000)).toBe(2_000);
    expect(p.delay(1, 0)).toBe(0);
    expect(p.delay(1, 60_000)).toBe(5_000);
  });
});

describe('retryAfter', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');
  it('reads delta-seconds and HTTP dates', () => {
    expect(retryAfter('3', now)).toBe(3000);
    expect(retryAfter(' 0 ', now)).toBe(0);
    expect(retryAfter('Wed, 01 Jan 2025 00:00:05 GMT', now)).toBe(5000);
    expect(retryAfter('Tue, 31 Dec 2024 23:00:00 GMT', now)).toBe(0);
  });
  it('ignores what it cannot read', () => {
    expect(retryAfter('soon', now)).toBeUndefined();
    expect(retryAfter('', now)).toBeUndefined();
    expect(retryAfter(null, now)).toBeUndefined();
    expect(retryAfter('-1', now)).toBeUndefined();
  });
});

describe('AdaptiveLimit', () => {
  async function take(limit: AdaptiveLimit, n: number) {
    return Promise.all(Array.from({ length: n }, () => limit.acquire()));
  }

  it('never has more requests in flight than its limit', async () => {
    const limit = new AdaptiveLimit(2);
    const [a, b] = await take(limit, 2);
    let third = false;
    const waiting = limit.acquire().then((r) => { third = true; return r; });
    await Promise.resolve();
    expect(third).toBe(false);
    a!('ok');
    (await waiting)('ok');
    expect(third).toBe(true);
    b!('ok');
  });

  it('cuts by a quarter on a 429 (once per round) and climbs back by one per round of successes', async () => {
    const limit = new AdaptiveLimit(8);
    for (const release of await take(limit, 8)) release('ok');
    expect(limit.limit).toBe(8);
    const round = await take(limit, 8);
    round[0]!('throttled');
    expect(limit.limit).toBe(6);
    round[1]!('ok');
    round[2]!('throttled'); // same round: not cut again
    expect(limit.limit).toBe(6);
    for (const release of round.slice(3)) release('ok');
    expect(limit.limit).toBe(7);
    for (let i = 0; i < 20; i++) for (const release of await take(limit, limit.limit)) release('ok');
    expect(limit.limit).toBe(8);
  });

  it('pauses every request only when 429s come in a row, for their Retry-After', async () => {
    let clock = 1_000;
    const limit = new AdaptiveLimit(4, () => clock);
    const [a, b, c, d] = await take(limit, 4);
    a!('throttled', 2_000);
    b!('throttled', 2_000);
    expect(limit.pause()).toBe(0); // not yet three in a row: their own requests wait, the others go on
    expect(limit.limit).toBe(3); // cut once: the same round
    c!('throttled', 2_000);
    expect(limit.pause()).toBe(2_000); // three in a row: the app is being limited
    expect(limit.limit).toBe(2);
    clock += 1_500;
    expect(limit.pause()).toBe(500);
    d!('ok');
    expect(limit.limit).toBe(2);
  });
});

describe('CircuitBreaker', () => {
  it('opens after the threshold of failures in a row, with one message naming the last', () => {
    const b = new CircuitBreaker('portal', 3);
    b.failure('timeout 1');
    b.failure('timeout 2');
    b.success();
    b.failure('timeout 3');
    b.failure('timeout 4');
    expect(b.open).toBe(false);
    expect(() => b.check()).not.toThrow();
    b.failure('HTTP 500 five');
    expect(b.open).toBe(true);
    expect(b.reason).toBe('not attempted: portal failed 3 requests in a row, so idplane stopped sending it more in this run (last: HTTP 500 five); the other apps went on; apply again once portal answers');
    expect(() => b.check()).toThrow(CircuitOpenError);
    b.success(); // stays open for the run
    expect(b.open).toBe(true);
  });
});

describe('forEachWithWorkers', () => {
  it('keeps at most `workers` going and gives the results in the items\' order', async () => {
    let going = 0;
    let most = 0;
    const results = await forEachWithWorkers([5, 1, 4, 2, 3], 2, async (n) => {
      going++;
      most = Math.max(most, going);
      await new Promise((r) => setTimeout(r, n));
      going--;
      return n * 10;
    });
    expect(results).toEqual([50, 10, 40, 20, 30]);
    expect(most).toBe(2);
    expect(await forEachWithWorkers([], 4, async () => 1)).toEqual([]);
  });
});
