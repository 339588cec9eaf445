/**
 * Just-in-time provisioning: one account, the way an identity provider's assertion carries it (its
 * attributes), goes through the same pipeline as an import (matching, sourcing, mapping, lifecycle)
 * with every other source taken from the state, so only this one user can change. It runs under the
 * state lock and writes atomically, like apply. An account already linked by an import is updated,
 * never duplicated. `jit` is one account (idplane jit, the library); `runJitBatch` several at once
 * (idplane serve gathers concurrent sign-ins into one run).
 */
import { createHash } from 'node:crypto';
import type { Plan } from '../../schemas/generated/plan.ts';
import type { DirectoryIndex } from '../../reconciler/directory-index.ts';
import { planJit } from '../../reconciler/jit-plan.ts';
import { summarise } from '../../reconciler/plan.ts';
import { atBoundary } from '../boundary.ts';
import { IdplaneError, UsageError } from '../errors.ts';
import type { Observer } from '../observer.ts';
import { progressOf } from '../progress.ts';
import { JitSession } from './jit-session.ts';
import { openWorkspace, VERSION, type Workspace } from '../workspace.ts';
import { takeLock } from './lock.ts';
import { runContext, type RunOptions } from './run-options.ts';
import { setOwn } from '../../reconciler/records.ts';

export interface JitRunOptions extends RunOptions {
  /** The import app the account comes from. */
  app: string;
  /**
   * The account's attributes: an object (numbers and booleans become strings, null empty), or its
   * JSON text (JIT_INPUT when it is not one flat JSON object).
   */
  account: string | Record<string, unknown>;
  /** How long to wait for a lock another run holds; 0 (the default) fails fast with LOCK_HELD. */
  lockTimeoutMs?: number;
  /** Where a JSON text came from, as its errors name it; default "the account" (the CLI: "stdin"). */
  inputName?: string;
}

/** One account now: its user created, updated or left as it is (`change` null, action none). */
export async function jit(options: JitRunOptions): Promise<JitResult> {
  const { observer, open } = runContext(options);
  return atBoundary(async () => {
    const ws = await openWorkspace(options.dir, open);
    try {
      checkJitApp(ws, options.app);
      const attributes = typeof options.account === 'string' ? parseAccount(options.account, options.app, options.inputName ?? 'the account') : accountAttributes(options.account, options.app);
      return await runJit(ws, options.app, attributes, { ...(options.lockTimeoutMs !== undefined ? { lockTimeoutMs: options.lockTimeoutMs } : {}), observer, command: 'jit' });
    } finally {
      await ws.store.close();
    }
  });
}

/** Refuses an app that has no import: section (JIT runs an account through an import). */
export function checkJitApp(ws: Pick<Workspace, 'project'>, app: string): void {
  const compiled = Object.hasOwn(ws.project.apps, app) ? ws.project.apps[app]! : null;
  if (!compiled?.import) {
    const imports = Object.values(ws.project.apps).filter((a) => a.import).map((a) => a.name);
    throw new UsageError(`jit needs an app with an import: section; ${JSON.stringify(app)} is not one (import apps: ${imports.join(', ') || 'none'})`);
  }
}

export interface JitResult {
  app: string;
  key: string;
  /** What happened to the user: create, update, activate, …, or none. */
  action: string;
  login: string | null;
  /** The user as the directory now holds them, or null when the account is linked to nobody. */
  user: unknown;
  change: Plan['users'][number] | null;
  /** The plan narrowed to this one account, as carried out. */
  plan: Plan;
}

export interface JitOptions {
  lockTimeoutMs?: number;
  observer: Observer;
  /** The command recorded in the run history ("jit", "serve jit"). */
  command: string;
  /** The directory held between runs (idplane serve keeps one); a run without one reads the state afresh. */
  session?: JitSession;
}

/**
 * One account through the import pipeline, under the state lock: match, source, map, lifecycle, with
 * every other account taken from the state; carried out (journaled, atomic) unless it needs review or
 * conflicts, which throw IdplaneError JIT_REVIEW / JIT_CONFLICT and change nothing. `idplane jit` runs
 * this; `idplane serve` runs runJitBatch.
 */
export async function runJit(ws: Workspace, app: string, attributes: Record<string, string>, options: JitOptions): Promise<JitResult> {
  const [result] = await runJitBatch(ws, app, [attributes], options);
  if (result instanceof Error) throw result;
  return result!;
}

/**
 * Several accounts of one app at once, as one run: one state read, one plan, one atomic write, so a
 * burst of sign-ins costs about what one does. Each account is judged on its own: one that needs
 * review or conflicts (with the directory or with another account of the batch) gets its IdplaneError and
 * changes nothing, while the others are carried out. Plan policies and safeguards hold as for apply,
 * with no override: an account whose change breaks one is refused (JIT_BLOCKED); when the batch
 * together breaks one, its accounts are taken one at a time, each judged as it would be alone. The
 * same key twice is one account (the last attributes given), and both get its result. An account
 * without its key attribute is a JIT_INPUT error. Results come in the order of `accounts`. Errors that
 * stop the whole run (the lock, the state) are thrown.
 */
export async function runJitBatch(ws: Workspace, app: string, accounts: Record<string, string>[], options: JitOptions): Promise<(JitResult | IdplaneError)[]> {
  checkJitApp(ws, app);
  const compiled = ws.project.apps[app]!;
  const keys = accounts.map((attributes) => attributes[compiled.key] ?? '');
  const latest = new Map<string, Record<string, string>>();
  keys.forEach((key, i) => {
    if (key) latest.set(key, accounts[i]!);
  });
  const missingKey = new IdplaneError('JIT_INPUT', `${app}: the account has no value for its key attribute ${JSON.stringify(compiled.key)}`);
  if (latest.size === 0) return keys.map(() => missingKey);

  const progress = progressOf(options.observer);
  const session = options.session ?? new JitSession();
  const lock = await takeLock(ws, options.command, options.lockTimeoutMs ?? 0);
  try {
    const index = await session.current(ws, progress);
    let outcomes = planAccounts(ws, app, index, latest);
    const blocked = [...outcomes.values()].some((o) => o instanceof IdplaneError && o.code === 'JIT_BLOCKED');
    if (blocked && latest.size > 1) {
      outcomes = new Map();
      for (const [key, attributes] of latest) {
        const one = planAccounts(ws, app, index, new Map([[key, attributes]])).get(key)!;
        outcomes.set(key, one);
        if (!(one instanceof IdplaneError) && changes(one)) await session.commit(ws, index, mergePlans([one]), options.command);
      }
    } else {
      const good = [...outcomes.values()].filter((o): o is Plan => !(o instanceof IdplaneError));
      const merged = good.length > 0 ? mergePlans(good) : null;
      if (merged && changes(merged)) await session.commit(ws, index, merged, options.command);
    }
    return keys.map((key) => {
      if (!key) return missingKey;
      const plan = outcomes.get(key)!;
      if (plan instanceof IdplaneError) return plan;
      const change = plan.users[0] ?? null;
      const userId = change?.id ?? plan.links.find((l) => l.app === app && l.key === key && l.action === 'link')?.userId ?? index.link(app, key)?.userId ?? null;
      const user = userId === null ? undefined : index.user(userId);
      return { app, key, action: change?.action ?? 'none', login: change?.login ?? user?.login ?? null, user: change?.after ?? user ?? null, change, plan };
    });
  } finally {
    await lock.release();
  }
}

function changes(plan: Plan): boolean {
  return plan.users.length + plan.links.length + plan.imports.length > 0;
}

/**
 * Plans the accounts together against one state and judges each: its narrowed plan, or why it is
 * refused (review, conflict; or, when the plan breaks a policy or trips a safeguard, JIT_BLOCKED).
 */
function planAccounts(ws: Workspace, app: string, index: DirectoryIndex, accounts: Map<string, Record<string, string>>): Map<string, Plan | IdplaneError> {
  const source = [...accounts].map(([key, attributes]) => ({ key, attributes }));
  const full = planJit({
    project: ws.project, index, app, accounts: source, configFingerprint: ws.fingerprint, version: VERSION,
    fingerprint: `sha256:${createHash('sha256').update(JSON.stringify(source)).digest('hex')}`,
  });
  const held = full.blockers.filter((b) => b.code === 'policy' || b.code === 'safeguard');
  const outcomes = new Map<string, Plan | IdplaneError>();
  for (const key of accounts.keys()) {
    const plan = narrowToAccount(full, app, key, index.link(app, key)?.userId ?? null);
    if (plan.reviews.length > 0) outcomes.set(key, new IdplaneError('JIT_REVIEW', `${app}/${key} needs review, so no user was created or changed: ${plan.reviews[0]!.message}. Settle it with ${plan.reviews[0]!.resolution}`));
    else if (plan.conflicts.length > 0) outcomes.set(key, new IdplaneError('JIT_CONFLICT', `${app}/${key} cannot be provisioned: ${plan.conflicts.map((c) => c.message).join('; ')}`));
    else if (held.length > 0 && changes(plan)) outcomes.set(key, new IdplaneError('JIT_BLOCKED', `${app}/${key} was not provisioned: the change ${held.map((b) => (b.code === 'policy' ? `breaks plan policy ${b.policy}` : `trips a safeguard (${b.message})`)).join('; ')}; JIT never overrides one (run idplane plan to review it)`));
    else outcomes.set(key, plan);
  }
  return outcomes;
}

/** The accounts' narrowed plans (of one full plan) as one plan to carry out: each change once, nothing for review. */
function mergePlans(plans: Plan[]): Plan {
  const once = <T>(items: T[], id: (item: T) => string): T[] => [...new Map(items.map((item) => [id(item), item])).values()];
  const merged: Plan = {
    ...plans[0]!,
    users: once(plans.flatMap((p) => p.users), (u) => u.id),
    links: once(plans.flatMap((p) => p.links), (l) => JSON.stringify([l.action, l.app, l.key, l.userId])),
    imports: once(plans.flatMap((p) => p.imports), (i) => JSON.stringify([i.app, i.key])),
    watermarks: [],
    reviews: [],
    conflicts: [],
    warnings: once(plans.flatMap((p) => p.warnings), (w) => JSON.stringify(w)),
    safeguards: [],
    blockers: [],
    applyable: true,
    evaluated: 'changed',
  };
  merged.summary = summarise(merged);
  return merged;
}

/** One account's attributes from JSON text (`from` names where it came from in the errors). */
export function parseAccount(input: string, app: string, from = 'stdin'): Record<string, string> {
  let value: unknown;
  try {
    value = JSON.parse(input);
  } catch (error) {
    throw new IdplaneError('JIT_INPUT', `${app}: ${from} is not JSON: ${(error as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new IdplaneError('JIT_INPUT', `${app}: ${from} must be one JSON object of account attributes`);
  return accountAttributes(value as Record<string, unknown>, app);
}

/** One account's attributes: a flat object; numbers and booleans become strings, null empty. */
export function accountAttributes(value: Record<string, unknown>, app: string): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const [name, v] of Object.entries(value)) {
    // No text holds a NUL: PostgreSQL refuses to store one, and it would fail the whole batch's write.
    if (name.includes('\u0000')) throw new IdplaneError('JIT_INPUT', `${app}: an attribute name holds a NUL character (U+0000), which no name or value may hold`);
    if (typeof v === 'string' && v.includes('\u0000')) throw new IdplaneError('JIT_INPUT', `${app}: attribute ${JSON.stringify(name)} holds a NUL character (U+0000), which no value may hold`);
    // Half a surrogate pair (a lone \ud800 escape) is not text: PostgreSQL would refuse the batch's write.
    if (!name.isWellFormed() || (typeof v === 'string' && !v.isWellFormed())) throw new IdplaneError('JIT_INPUT', `${app}: attribute ${JSON.stringify(name.toWellFormed())} holds half of a UTF-16 surrogate pair (a lone \\ud800, say), which is not text`);
    if (v === null) setOwn(attributes, name, '');
    else if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') setOwn(attributes, name, String(v));
    else throw new IdplaneError('JIT_INPUT', `${app}: attribute ${JSON.stringify(name)} must be a string, number, boolean or null`);
  }
  return attributes;
}

/** Keeps only what concerns this one account and its user. */
function narrowToAccount(plan: Plan, app: string, key: string, linkedUser: string | null): Plan {
  const mine = (a: { app?: string; key?: string }) => a.app === app && a.key === key;
  const userId = plan.links.find((l) => mine(l) && l.action === 'link')?.userId ?? linkedUser;
  const users = plan.users.filter((u) => u.id === userId);
  const login = users[0]?.login;
  const narrowed: Plan = {
    ...plan,
    users,
    links: plan.links.filter((l) => mine(l) || l.userId === userId),
    imports: plan.imports.filter(mine),
    watermarks: [],
    reviews: plan.reviews.filter(mine),
    conflicts: plan.conflicts.filter((c) => mine(c) || (login !== undefined && c.users?.includes(login))),
    warnings: plan.warnings.filter((w) => mine(w) || (login !== undefined && w.users?.includes(login))),
    safeguards: [],
    // Only this one user was looked at: the state must not record that every user was evaluated.
    evaluated: 'changed',
  };
  narrowed.blockers = narrowed.conflicts.length > 0 ? [{ code: 'conflicts', message: `${narrowed.conflicts.length} conflict(s)` }] : [];
  narrowed.applyable = narrowed.blockers.length === 0;
  narrowed.summary = summarise(narrowed);
  return narrowed;
}
