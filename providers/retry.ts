/**
 * The one retry policy of every networked provider (scim, ldap, http, okta): when to try again, how long to wait,
 * how many requests an app may have in flight, and when to stop trying an app for the rest of the run.
 * Pure state machines over an injected clock and random source, so they are tested without a network.
 *
 * - RetryPolicy: a bounded number of retries; exponential backoff with jitter (each wait is drawn
 *   between half and all of base·2^(n-1), capped at maxDelayMs, so workers that failed together do not
 *   come back together); a server's Retry-After (seconds or an HTTP date) replaces the backoff, up to
 *   maxRetryAfterMs. Which failures are retried, and whether a request may be re-sent at all, is the
 *   caller's: a request that may have been carried out is only repeated after a lookup shows it was not.
 * - AdaptiveLimit: the app-wide bound on requests in flight, additive increase and multiplicative
 *   decrease: a 429 cuts it by a quarter (at most once per round of requests, so one burst counts
 *   once; three in a row cut it each time), every
 *   round of successes raises it by one, back up to the configured concurrency. When three 429s come
 *   in a row with no success between them the server is limiting the app as a whole, and every request
 *   waits out the Retry-After; a 429 among successes makes only its own request wait.
 * - CircuitBreaker: after `threshold` failures in a row (no success between) the app is stopped for
 *   this run: every later request fails at once with one message naming the last failure, instead of
 *   thousands of identical errors and timeouts. A success before then resets the count.
 */

export interface RetrySettings {
  /** Retries after the first attempt. */
  retries: number;
  /** First backoff step. */
  baseDelayMs: number;
  /** Longest backoff step. */
  maxDelayMs: number;
  /** Longest wait a Retry-After may impose. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY: RetrySettings = { retries: 4, baseDelayMs: 200, maxDelayMs: 8_000, maxRetryAfterMs: 60_000 };

export class RetryPolicy {
  readonly settings: RetrySettings;
  private readonly random: () => number;

  constructor(settings: RetrySettings, random: () => number = Math.random) {
    this.settings = settings;
    this.random = random;
  }

  /** Whether a request that failed on attempt `attempt` (0 = the first) may be tried again. */
  canRetry(attempt: number): boolean {
    return attempt < this.settings.retries;
  }

  /** The wait before retry number `retry` (1-based): Retry-After when the server gave one, else backoff with jitter. */
  delay(retry: number, retryAfterMs?: number): number {
    if (retryAfterMs !== undefined) return Math.min(retryAfterMs, this.settings.maxRetryAfterMs);
    const step = Math.min(this.settings.baseDelayMs * 2 ** Math.max(retry - 1, 0), this.settings.maxDelayMs);
    return Math.round(step / 2 + this.random() * (step / 2));
  }
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3); undefined if absent or unreadable. */
export function retryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (value === null || value === undefined || value.trim() === '') return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  if (!/^[A-Za-z]{3},? /.test(text)) return undefined; // an HTTP date starts with its day name
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(date - now, 0);
}

/** How a request ended, as the limit and the breaker count it. */
export type Outcome = 'ok' | 'throttled' | 'failed';

/** 429s in a row (no success between) that mean the app as a whole is being limited. */
const IN_A_ROW = 3;

export class AdaptiveLimit {
  private current: number;
  private inFlight = 0;
  private readonly waiting: (() => void)[] = [];
  /** Successes since the limit last changed: `current` of them (a round) raise it by one. */
  private sinceChange = 0;
  /** Requests finished since the limit was last lowered: a 429 within a round of that is the same burst. */
  private sinceDecrease = Number.POSITIVE_INFINITY;
  private throttledInRow = 0;
  private pausedUntil = 0;

  readonly max: number;
  private readonly now: () => number;

  constructor(max: number, now: () => number = Date.now) {
    this.max = max;
    this.now = now;
    this.current = Math.max(1, max);
  }

  get limit(): number {
    return this.current;
  }

  /** How long every request must still wait (an app-wide Retry-After), in ms. */
  pause(): number {
    return Math.max(this.pausedUntil - this.now(), 0);
  }

  /**
   * Holds every request of the app for `ms`: a server that says its quota is spent before it refuses
   * anything (Okta's X-Rate-Limit-Remaining: 0 until X-Rate-Limit-Reset) is waited for, not hit.
   */
  pauseFor(ms: number): void {
    if (ms > 0) this.pausedUntil = Math.max(this.pausedUntil, this.now() + ms);
  }

  /** Waits for a slot; the returned function gives it back with the request's outcome. */
  async acquire(): Promise<(outcome: Outcome, retryAfterMs?: number) => void> {
    // A woken waiter's slot is counted by the request that woke it, so the bound holds exactly.
    if (this.inFlight < this.current) this.inFlight++;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    let released = false;
    return (outcome, retryAfterMs) => {
      if (released) return;
      released = true;
      this.inFlight--;
      this.record(outcome, retryAfterMs);
      while (this.waiting.length > 0 && this.inFlight < this.current) {
        this.inFlight++;
        this.waiting.shift()!();
      }
    };
  }

  private record(outcome: Outcome, retryAfterMs?: number): void {
    this.sinceDecrease++;
    if (outcome === 'throttled') {
      this.throttledInRow++;
      if (this.throttledInRow >= IN_A_ROW && retryAfterMs !== undefined) this.pausedUntil = Math.max(this.pausedUntil, this.now() + retryAfterMs);
      if (this.sinceDecrease > this.current || this.throttledInRow >= IN_A_ROW) {
        this.current = Math.max(1, Math.floor(this.current * 0.75));
        this.sinceDecrease = 0;
        this.sinceChange = 0;
      }
      return;
    }
    if (outcome !== 'ok') return;
    this.throttledInRow = 0;
    if (++this.sinceChange >= this.current && this.current < this.max) {
      this.current++;
      this.sinceChange = 0;
    }
  }
}

export class CircuitOpenError extends Error {
  readonly code = 'CIRCUIT_OPEN';
}

export class CircuitBreaker {
  private failures = 0;
  private last = '';
  private opened: string | null = null;

  readonly app: string;
  readonly threshold: number;

  constructor(app: string, threshold: number) {
    this.app = app;
    this.threshold = threshold;
  }

  get open(): boolean {
    return this.opened !== null;
  }

  /** The one message of an open circuit, or null while it is closed. */
  get reason(): string | null {
    return this.opened;
  }

  /** Throws CircuitOpenError once the app is stopped for this run. */
  check(): void {
    if (this.opened !== null) throw new CircuitOpenError(this.opened);
  }

  success(): void {
    if (this.opened === null) this.failures = 0;
  }

  /** Counts a failure (a timeout, a lost connection, a 5xx); `reason` is its message. */
  failure(reason: string): void {
    if (this.opened !== null) return;
    this.failures++;
    this.last = reason;
    if (this.failures >= this.threshold) {
      this.opened = `not attempted: ${this.app} failed ${this.failures} requests in a row, so idplane stopped sending it more in this run (last: ${this.last}); the other apps went on; apply again once ${this.app} answers`;
    }
  }
}

/**
 * Runs `work` on every item with at most `workers` of them going on at once, and gives the results in
 * the items' order. Writers use it to keep more changes going than requests may be in flight, so one
 * change waiting out a backoff does not hold the others up (the adaptive limit bounds the requests).
 */
export async function forEachWithWorkers<T, R>(items: readonly T[], workers: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(workers, 1), items.length) }, worker));
  return results;
}
