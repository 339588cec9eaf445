/**
 * Safeguards: mass-change thresholds evaluated at plan time, overall and per app. Counts come from the
 * plan: users deactivated or suspended (attributed to the app that sourced them), accounts newly
 * disabled at their source, and accounts changed or vanished. A threshold is a count or a percentage
 * of the base; it trips when the count goes over it (exactly at the threshold passes).
 */
import type { SafeguardLimits, SafeguardsConfig, Threshold } from '../schemas/generated/config.ts';
import type { AccountChange, ImportChange, SafeguardVerdict, UserChange } from '../schemas/generated/plan.ts';
import { importedRecord, type DirectoryState } from './model.ts';

export type SafeguardKind = SafeguardVerdict['kind'];
const KINDS: SafeguardKind[] = ['deactivateUsers', 'suspendUsers', 'disableAccounts', 'changeAccounts'];

export const DEFAULT_SAFEGUARDS: SafeguardLimits = { deactivateUsers: '20%', suspendUsers: '20%', disableAccounts: '20%' };

type Counts = Record<SafeguardKind, number>;
const zero = (): Counts => ({ deactivateUsers: 0, suspendUsers: 0, disableAccounts: 0, changeAccounts: 0 });

/** The bases percentages are taken of: users by profile source, accounts by app; each with an 'all' entry. */
export interface Population {
  users: ReadonlyMap<string, number>;
  accounts: ReadonlyMap<string, number>;
}

/**
 * The population of a state: its users (overall and by profile source), and its accounts by app: the
 * stored import records of a source, the links of a target (an app that is both counts once, the larger).
 */
export function populationOf(state: Pick<DirectoryState, 'users' | 'links' | 'imported'>): Population {
  const users = new Map<string, number>([['all', state.users.length]]);
  for (const u of state.users) users.set(u.profileSource, (users.get(u.profileSource) ?? 0) + 1);
  const accounts = new Map<string, number>([['all', 0]]);
  for (const [app, records] of state.imported) accounts.set(app, records.records.size);
  const linked = new Map<string, number>();
  for (const l of state.links) linked.set(l.app, (linked.get(l.app) ?? 0) + 1);
  for (const [app, n] of linked) accounts.set(app, Math.max(accounts.get(app) ?? 0, n));
  for (const [app, n] of accounts) if (app !== 'all') accounts.set('all', accounts.get('all')! + n);
  return { users, accounts };
}

/**
 * `population`: the bases, when `state` is not the whole directory (a JIT run plans on the few users it
 * concerns; its index counts the rest).
 */
export function evaluateSafeguards(config: SafeguardsConfig, state: DirectoryState, users: UserChange[], imports: ImportChange[], accounts: AccountChange[] = [], population: Population = populationOf(state)): SafeguardVerdict[] {
  const counts = new Map<string, Counts>([['all', zero()]]);
  const bump = (scope: string, kind: SafeguardKind) => {
    let c = counts.get(scope);
    if (!c) counts.set(scope, (c = zero()));
    c[kind] += 1;
    counts.get('all')![kind] += 1;
  };
  for (const u of users) {
    if (!u.before) continue;
    if (u.action === 'deactivate') bump(u.before.profileSource, 'deactivateUsers');
    if (u.action === 'suspend') bump(u.before.profileSource, 'suspendUsers');
  }
  for (const i of imports) {
    const prior = importedRecord(state.imported, i.app, i.key);
    if (!prior) continue;
    if (i.action === 'forget' || i.action === 'refresh') bump(i.app, 'changeAccounts');
    if (i.action === 'refresh' && i.disabled === true && !prior.disabled) bump(i.app, 'disableAccounts');
  }
  for (const a of accounts) {
    if (a.action === 'disable' || a.action === 'delete') bump(a.app, 'disableAccounts');
    if (a.action === 'update') bump(a.app, 'changeAccounts');
  }

  const verdicts: SafeguardVerdict[] = [];
  const scopes: [string, SafeguardLimits][] = [['all', config], ...Object.entries(config.apps ?? {})];
  for (const [scope, limits] of scopes) {
    for (const kind of KINDS) {
      const threshold = limits[kind];
      if (threshold === undefined) continue;
      const count = counts.get(scope)?.[kind] ?? 0;
      const base = (kind.endsWith('Users') ? population.users : population.accounts).get(scope) ?? 0;
      const limit = limitOf(threshold, base);
      verdicts.push({ scope, kind, count, base, threshold, limit, tripped: count > limit });
    }
  }
  return verdicts;
}

export function limitOf(threshold: Threshold, base: number): number {
  if (typeof threshold === 'number') return threshold;
  return (base * Number(threshold.slice(0, -1))) / 100;
}

export function describeVerdict(v: SafeguardVerdict): string {
  const what: Record<SafeguardKind, string> = {
    deactivateUsers: 'users to deactivate', suspendUsers: 'users to suspend',
    disableAccounts: 'accounts to disable or newly disabled', changeAccounts: 'accounts changed or vanished',
  };
  const of = typeof v.threshold === 'string' ? ` of ${v.base} (at most ${Math.floor(v.limit)})` : '';
  return `${v.count} ${what[v.kind]}${v.scope === 'all' ? '' : ` in ${v.scope}`} is over the safeguard ${v.kind}: ${v.threshold}${of}`;
}
