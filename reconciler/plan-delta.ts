/**
 * The delta between two plans of the same state and the same source snapshots (plan --git-base REF):
 * what a change to the config changes about what apply would do. A user (or account) is compared by
 * what each plan leaves it as: its change's `after`, or, when a plan does not change it, the record
 * the state already holds (the same for both). So a mapping change shows as the attributes whose
 * planned value differs, user by user, and a new policy of deactivation as the users only one plan
 * deactivates. Pure; one pass over each plan with hash indexes.
 */
import type { AccountChange, Plan, UserChange } from '../schemas/generated/plan.ts';
import { ExampleTally } from './example-tally.ts';
import type { AccountDelta, ActionDelta, AttributeDelta, DifferenceGroup, PlanDelta, UserDelta } from '../schemas/generated/plan-delta.ts';

/**
 * The delta between the plans of two configs over the same inputs. With `countBy` (the config's
 * plan.countBy, an attribute that is not personal data), the users whose planned action differs are
 * also counted by that attribute's value.
 */
export function planDelta(base: Plan, head: Plan, ref: { ref: string; commit: string }, countBy?: string): PlanDelta {
  const actions = new Map<string, ActionDelta>();
  const action = (kind: 'user' | 'account', app: string, name: string) => {
    const id = `${kind}\u0000${app}\u0000${name}`;
    let a = actions.get(id);
    if (!a) actions.set(id, (a = { kind, app, action: name, base: 0, head: 0, delta: 0 }));
    return a;
  };
  for (const u of base.users) action('user', u.after.profileSource, u.action).base += 1;
  for (const u of head.users) action('user', u.after.profileSource, u.action).head += 1;
  for (const a of base.accounts) action('account', a.app, a.action).base += 1;
  for (const a of head.accounts) action('account', a.app, a.action).head += 1;
  for (const a of actions.values()) a.delta = a.head - a.base;

  const attributeCounts = new Map<string, AttributeDelta>();
  const countAttribute = (kind: 'user' | 'account', app: string | null, attribute: string) => {
    const id = `${kind}\u0000${app ?? ''}\u0000${attribute}`;
    let a = attributeCounts.get(id);
    if (!a) attributeCounts.set(id, (a = { kind, app, attribute, count: 0 }));
    a.count += 1;
  };

  const groups = new DifferenceGroups();
  const users: UserDelta[] = [];
  const headUsers = new Map(head.users.map((u) => [u.id, u]));
  const seen = new Set<string>();
  for (const b of base.users) {
    seen.add(b.id);
    const h = headUsers.get(b.id);
    const attributes = userDifference(b, h);
    if (attributes.length === 0 && h?.action === b.action) continue;
    for (const name of attributes) countAttribute('user', null, name);
    groups.users(b, h, attributes);
    users.push({ id: b.id, login: (h ?? b).login, base: b.action, head: h?.action ?? null, attributes });
  }
  for (const h of head.users) {
    if (seen.has(h.id)) continue;
    const attributes = userDifference(undefined, h);
    for (const name of attributes) countAttribute('user', null, name);
    groups.users(undefined, h, attributes);
    users.push({ id: h.id, login: h.login, base: null, head: h.action, attributes });
  }

  const accounts: AccountDelta[] = [];
  const accountId = (a: AccountChange) => `${a.app}\u0000${a.key}`;
  const headAccounts = new Map(head.accounts.map((a) => [accountId(a), a]));
  const seenAccounts = new Set<string>();
  for (const b of base.accounts) {
    const id = accountId(b);
    seenAccounts.add(id);
    const h = headAccounts.get(id);
    const attributes = accountDifference(b, h);
    if (attributes.length === 0 && h?.action === b.action) continue;
    for (const name of attributes) countAttribute('account', b.app, name);
    groups.accounts(b, h, attributes);
    accounts.push({ app: b.app, key: b.key, login: (h ?? b).login, base: b.action, head: h?.action ?? null, attributes });
  }
  for (const h of head.accounts) {
    if (seenAccounts.has(accountId(h))) continue;
    const attributes = accountDifference(undefined, h);
    for (const name of attributes) countAttribute('account', h.app, name);
    groups.accounts(undefined, h, attributes);
    accounts.push({ app: h.app, key: h.key, login: h.login, base: null, head: h.action, attributes });
  }

  const countedBy = countBy === undefined ? undefined : countByValue(countBy, users, base, head);
  const pending = pendingChanges(base);

  // What kept the base plan from being applied that the head's plan no longer has.
  const still = new Set(head.blockers.map((b) => b.message));
  const unblocks = base.blockers.filter((b) => !still.has(b.message)).map((b) => b.message);
  const side = (p: Plan) => ({ applyable: p.applyable, summary: p.summary, blockers: p.blockers, ...(p.policies ? { policies: p.policies } : {}), ...(p.notPlanned ? { notPlanned: p.notPlanned } : {}) });
  return {
    format_version: '1',
    base: { ...ref, ...side(base) },
    head: side(head),
    counts: { users: users.length, accounts: accounts.length },
    actions: [...actions.values()].filter((a) => a.delta !== 0).sort((a, b) => Math.abs(b.delta) - Math.abs(a.delta) || a.kind.localeCompare(b.kind) || a.app.localeCompare(b.app) || a.action.localeCompare(b.action)),
    attributes: [...attributeCounts.values()].sort((a, b) => b.count - a.count || a.attribute.localeCompare(b.attribute)),
    users,
    accounts,
    ...groups.largest(),
    ...(unblocks.length > 0 ? { unblocks } : {}),
    ...(countedBy && countedBy.rows.length > 0 ? { countedBy } : {}),
    ...(pending ? { pending } : {}),
  };
}

/**
 * What the base's plan carries out anyway (the data changes pending): counts by action, and each
 * attribute change from the stored value to the planned one grouped by value. Undefined when none.
 */
function pendingChanges(base: Plan): PlanDelta['pending'] {
  const users: Record<string, number> = {};
  const accounts: Record<string, number> = {};
  const groups = new DifferenceGroups();
  for (const u of base.users) {
    users[u.action] = (users[u.action] ?? 0) + 1;
    if (u.before) groups.users(undefined, u, userDifference(undefined, u));
  }
  for (const a of base.accounts) accounts[a.action] = (accounts[a.action] ?? 0) + 1;
  if (base.users.length + base.accounts.length === 0) return undefined;
  return { users, accounts, ...groups.largest() };
}

/** The users whose planned action differs, by their action in the head's plan and `attribute`'s value after it. */
function countByValue(attribute: string, users: readonly UserDelta[], base: Plan, head: Plan): NonNullable<PlanDelta['countedBy']> {
  const after = new Map<string, unknown>();
  for (const u of base.users) after.set(u.id, u.after.profile[attribute]);
  for (const u of head.users) after.set(u.id, u.after.profile[attribute]);
  const rows = new Map<string, { action: string; value: string | null; count: number }>();
  for (const u of users) {
    if (u.base === u.head) continue;
    const action = u.head ?? 'no change';
    const raw = after.get(u.id);
    const value = raw === undefined || raw === null ? null : Array.isArray(raw) ? raw.join(', ') : String(raw);
    const id = `${action}\u0000${value ?? '\u0001'}`;
    const row = rows.get(id);
    if (row) row.count += 1;
    else rows.set(id, { action, value, count: 1 });
  }
  return { attribute, rows: [...rows.values()].sort((a, b) => b.count - a.count || a.action.localeCompare(b.action) || (a.value ?? '').localeCompare(b.value ?? '')) };
}

/** Groups kept in the delta, and distinct differences counted before new ones stop being grouped. */
const GROUPS_KEPT = 100;
const GROUPS_COUNTED = 100_000;

/** The same attribute difference (base value → head value) counted over users and accounts. */
class DifferenceGroups {
  private readonly tally = new ExampleTally<Omit<DifferenceGroup, 'count' | 'examples'>>(GROUPS_COUNTED);

  /** A user's differing attributes, when both sides plan the user (a create on one side only sets everything). */
  users(b: UserChange | undefined, h: UserChange | undefined, attributes: readonly string[]): void {
    const stored = (b ?? h)!.before;
    const left = b ? b.after : stored;
    const right = h ? h.after : stored;
    if (!left || !right) return;
    const login = (h ?? b)!.login;
    for (const name of attributes) {
      if (name === 'status') this.add('user', null, name, left.status, right.status, login);
      else if (name !== 'roles' && name !== 'source') this.add('user', null, name, left.profile[name] ?? null, right.profile[name] ?? null, login);
    }
  }

  accounts(b: AccountChange | undefined, h: AccountChange | undefined, attributes: readonly string[]): void {
    if (!b || !h) return;
    for (const name of attributes) this.add('account', h.app, name, b.attributes[name]?.to ?? null, h.attributes[name]?.to ?? null, h.login);
  }

  private add(kind: DifferenceGroup['kind'], app: string | null, attribute: string, base: DifferenceGroup['base'], head: DifferenceGroup['head'], login: string): void {
    const id = `${kind}\u0000${app ?? ''}\u0000${attribute}\u0000${JSON.stringify(base)}\u0000${JSON.stringify(head)}`;
    this.tally.add(id, () => ({ kind, app, attribute, base, head }), login);
  }

  largest(): { groups?: DifferenceGroup[] } {
    const all = this.tally.largest((a, b) => a.attribute.localeCompare(b.attribute));
    if (all.length === 0) return {};
    return { groups: all.slice(0, GROUPS_KEPT).map((g) => ({ ...g.value, count: g.count, examples: g.examples })) };
  }
}

/**
 * The attributes (and status, roles, source) whose planned value differs. A side without a change
 * leaves the user as the state holds them: the other side's `before`.
 */
function userDifference(b: UserChange | undefined, h: UserChange | undefined): string[] {
  const stored = (b ?? h)!.before;
  const left = b ? b.after : stored;
  const right = h ? h.after : stored;
  if (!left || !right) {
    // A create on one side only: everything it sets differs from nothing.
    const only = (left ?? right)!;
    return ['status', ...Object.keys(only.profile)].sort();
  }
  const out: string[] = [];
  for (const name of new Set([...Object.keys(left.profile), ...Object.keys(right.profile)])) {
    if (!same(left.profile[name], right.profile[name])) out.push(name);
  }
  if (left.status !== right.status) out.push('status');
  if (!same(left.roles, right.roles)) out.push('roles');
  if (left.profileSource !== right.profileSource) out.push('source');
  return out.sort();
}

/** The target attributes whose planned value (`to`) differs; one side without a change writes nothing. */
function accountDifference(b: AccountChange | undefined, h: AccountChange | undefined): string[] {
  const left = b?.attributes ?? {};
  const right = h?.attributes ?? {};
  const out: string[] = [];
  for (const name of new Set([...Object.keys(left), ...Object.keys(right)])) {
    if (!left[name] || !right[name] || !same(left[name]!.to, right[name]!.to)) out.push(name);
  }
  return out.sort();
}

function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined || a === null || b === null) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}
