/**
 * Signed plans. With `plan.signingKey` in the config, `plan --out` writes into the end line an
 * HMAC-SHA256 of every byte of the (uncompressed) plan stream before it, and `apply PLANFILE` checks it
 * before it reads anything else from the file: a plan is applied only if it was made by a job that
 * holds the key, and not changed since. Signing is a second lock: apply also recomputes the plan and
 * refuses one that differs from what the config and inputs produce (plan-verify.ts), signed or not.
 */
import { createHmac, timingSafeEqual, type Hmac } from 'node:crypto';
import type { Readable } from 'node:stream';
import { IdplaneError, UsageError } from './errors.ts';

const PREFIX = 'hmac-sha256:';
/** A shorter secret is guessable offline from one signed plan. */
export const MIN_KEY_LENGTH = 32;

/** The configured key, checked; undefined when the config sets none. */
export function signingKeyOf(config: { plan?: { signingKey?: string } }): string | undefined {
  const key = config.plan?.signingKey;
  if (key === undefined) return undefined;
  if (key.length < MIN_KEY_LENGTH) {
    throw new UsageError(`plan.signingKey is ${key.length} characters long; use a random secret of at least ${MIN_KEY_LENGTH} (for example the output of \`openssl rand -hex 32\`, kept in a CI secret and written as \${env:IDPLANE_PLAN_KEY})`);
  }
  return key;
}

/** Signs the lines written before the end line, as they are written. */
export class PlanSigner {
  private readonly hmac: Hmac;
  constructor(key: string) {
    this.hmac = createHmac('sha256', key);
  }
  update(text: string): void {
    this.hmac.update(text, 'utf8');
  }
  signature(): string {
    return `${PREFIX}${this.hmac.digest('hex')}`;
  }
}

/**
 * Reads the plan's bytes once and checks the end line's signature against all the bytes before it.
 * `bytes` is the uncompressed stream (plan-file.ts openBytes).
 */
export async function verifyPlanSignature(bytes: Readable, key: string, file: string): Promise<void> {
  const hmac = createHmac('sha256', key);
  // Bytes are signed once the line they end is known not to be the last: some byte follows its newline.
  let pending: Buffer = Buffer.alloc(0);
  for await (const chunk of bytes as AsyncIterable<Buffer>) {
    const buffer: Buffer = pending.length > 0 ? Buffer.concat([pending, chunk]) : chunk;
    const cut = buffer.length >= 2 ? buffer.lastIndexOf(0x0a, buffer.length - 2) : -1;
    if (cut === -1) {
      pending = buffer;
      continue;
    }
    hmac.update(buffer.subarray(0, cut + 1));
    pending = Buffer.from(buffer.subarray(cut + 1));
  }
  let stated: unknown;
  try {
    stated = (JSON.parse(pending.toString('utf8')) as { t?: unknown; v?: { signature?: unknown } }).v?.signature;
  } catch {
    stated = undefined;
  }
  if (typeof stated !== 'string') {
    throw new IdplaneError('PLAN_UNSIGNED', `${file} is not signed, but the config sets plan.signingKey: apply takes only plans made with that key (idplane plan --out in a job that has it). Refused; nothing was written.`);
  }
  const expected = Buffer.from(`${PREFIX}${hmac.digest('hex')}`);
  const given = Buffer.from(stated);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new IdplaneError('PLAN_SIGNATURE', `${file}'s signature does not match its content under plan.signingKey: the file was changed after it was signed, or signed with another key. Refused; nothing was written.`);
  }
}
