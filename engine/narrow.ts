/**
 * Narrowing what a plan, a plan delta or the history shows to one user, one app or one action
 * (`--user`, `--app`, `--action`). A saved plan is never narrowed: only what is shown of it. An item is
 * kept when it matches every filter given:
 *  - user: its login (case-insensitive); an issue naming that user among its users, a review among
 *    its candidates;
 *  - app: an account, link, import, watermark or issue of that app; a user change sourced by it (before
 *    or after the plan);
 *  - action: a user, account, link or import change with that action. Reviews, warnings and conflicts
 *    have no action: with --action they are kept (what blocks a plan is never hidden by a filter).
 */
import type { PlanDelta } from '../schemas/generated/plan-delta.ts';
import type { PlanItem, PlanSource } from './plan-stream.ts';
import { UsageError } from './errors.ts';

export interface Narrowing {
  user?: string;
  app?: string;
  action?: string;
}

/** Every action a change can have: users, accounts, links and imported records. */
export const ACTIONS = [
  'create', 'update', 'activate', 'deactivate', 'suspend', 'unsuspend',
  'enable', 'disable', 'delete', 'link', 'unlink', 'record', 'refresh', 'forget',
] as const;

/** The narrowing the options ask for, or null when none; an unknown action is a usage error. */
export function narrowingOf(options: Narrowing): Narrowing | null {
  if (options.action !== undefined && !(ACTIONS as readonly string[]).includes(options.action)) {
    throw new UsageError(`--action ${JSON.stringify(options.action)} is not an action; one of ${ACTIONS.join(', ')}`);
  }
  const out: Narrowing = {};
  if (options.user !== undefined) out.user = options.user;
  if (options.app !== undefined) out.app = options.app;
  if (options.action !== undefined) out.action = options.action;
  return Object.keys(out).length > 0 ? out : null;
}

/** Whether a plan item is shown under `n`. */
export function keeps(n: Narrowing, item: PlanItem): boolean {
  const user = n.user?.toLowerCase();
  switch (item.t) {
    case 'user': {
      const u = item.v;
      return (user === undefined || u.login.toLowerCase() === user || u.after.login.toLowerCase() === user)
        && (n.app === undefined || u.after.profileSource === n.app || u.before?.profileSource === n.app)
        && (n.action === undefined || u.action === n.action);
    }
    case 'account':
    case 'link':
      return (user === undefined || item.v.login.toLowerCase() === user) && (n.app === undefined || item.v.app === n.app) && (n.action === undefined || item.v.action === n.action);
    case 'import':
      return user === undefined && (n.app === undefined || item.v.app === n.app) && (n.action === undefined || item.v.action === n.action);
    case 'watermark':
      return user === undefined && n.action === undefined && (n.app === undefined || item.v.app === n.app);
    case 'review':
    case 'warning':
    case 'conflict': {
      const users = item.t === 'review' ? item.v.candidates : (item.v.users ?? []);
      return (user === undefined || users.some((u) => u.toLowerCase() === user))
        && (n.app === undefined || item.v.app === undefined || item.v.app === n.app);
    }
  }
}

/** `source` showing only the items `n` keeps; the header (its counts) stays the whole plan's. */
export function narrowSource(source: PlanSource, n: Narrowing | null): PlanSource {
  if (n === null) return source;
  return {
    header: source.header,
    async *batches() {
      for await (const batch of source.batches()) {
        const kept = batch.filter((item) => keeps(n, item));
        if (kept.length > 0) yield kept;
      }
    },
  };
}

/** A one-line description of `n` for views: `user ada@example.com, app hr, action update`. */
export function describeNarrowing(n: Narrowing): string {
  return [n.user && `user ${n.user}`, n.app && `app ${n.app}`, n.action && `action ${n.action}`].filter(Boolean).join(', ');
}

/**
 * A plan delta showing only the users and accounts `n` keeps: by login, by app (accounts; the delta's
 * users name no app, so --app leaves only accounts), and by action (in the base's plan or the head's).
 * Its counts and action totals stay the whole delta's.
 */
export function narrowDelta(delta: PlanDelta, n: Narrowing | null): PlanDelta {
  if (n === null) return delta;
  const user = n.user?.toLowerCase();
  const action = (e: { base: string | null; head: string | null }) => n.action === undefined || e.base === n.action || e.head === n.action;
  return {
    ...delta,
    users: delta.users.filter((u) => (user === undefined || u.login.toLowerCase() === user) && n.app === undefined && action(u)),
    accounts: delta.accounts.filter((a) => (user === undefined || a.login.toLowerCase() === user) && (n.app === undefined || a.app === n.app) && action(a)),
  };
}
