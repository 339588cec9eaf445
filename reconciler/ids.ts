/**
 * Deterministic ids for users the plan creates. A new user's id is derived from what created it (the app
 * and account key, or the declared login), so planning twice from the same inputs gives the same plan.
 */
import { hash } from 'node:crypto';

export function newUserId(origin: string, key: string): string {
  const digest = hash('sha256', `${origin}\u0000${key}`, 'hex');
  return `u-${digest.slice(0, 20)}`;
}
