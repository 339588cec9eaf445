/**
 * Drift (SPEC §5): what changed behind idplane's back, read off a fresh plan, the stored state and the
 * live target accounts. Five kinds: a sourced attribute edited in the directory (the plan restores it);
 * a target account edited outside idplane (its user did not change, yet the target needs an update);
 * a linked target account that is gone; an account in a target that no user is linked to (unmanaged);
 * a user whose source account vanished. Pure: it reports, it never changes anything.
 */
import type { NotPlannedApp, Plan } from '../schemas/generated/plan.ts';
import type { DirectoryState, SourceSnapshot } from './model.ts';

export type DriftKind = 'out-of-band' | 'target-changed' | 'target-missing' | 'unmanaged-account' | 'source-vanished';

export interface DriftItem {
  kind: DriftKind;
  app: string | null;
  key: string | null;
  login: string | null;
  attributes: string[];
  message: string;
}

export interface DriftReport {
  items: DriftItem[];
  counts: Record<DriftKind, number>;
  /** Apps that could not be read, so their drift is unknown (the plan's notPlanned). */
  notChecked?: NotPlannedApp[];
}

export function computeDrift(plan: Plan, state: DirectoryState, targets: SourceSnapshot[]): DriftReport {
  const items: DriftItem[] = [];
  const changedUsers = new Set(plan.users.map((u) => u.id));
  for (const u of plan.users) {
    const edited = Object.entries(u.attributes ?? {}).filter(([, v]) => v.outOfBand).map(([name]) => name);
    if (edited.length > 0) items.push({ kind: 'out-of-band', app: null, key: null, login: u.login, attributes: edited, message: `${edited.join(', ')} of ${u.login} changed in the directory outside idplane; the source's value is restored by the next apply` });
  }
  for (const l of plan.links) {
    if (l.action === 'unlink' && l.reason.startsWith('account vanished')) {
      items.push({ kind: 'source-vanished', app: l.app, key: l.key, login: l.login, attributes: [], message: `${l.app}/${l.key}, the source account of ${l.login}, is gone from ${l.app}` });
    }
  }
  for (const a of plan.accounts) {
    if (a.action === 'update' && !a.link && !changedUsers.has(a.userId) && Object.keys(a.attributes).length > 0) {
      const names = Object.keys(a.attributes);
      items.push({ kind: 'target-changed', app: a.app, key: a.key, login: a.login, attributes: names, message: `${a.app}/${a.key} (${a.login}) was edited outside idplane: ${names.join(', ')} differ from what the directory says` });
    }
  }
  const userLogin = new Map(state.users.map((u) => [u.id, u.login]));
  // A write-back app's account that vanished is reported once, as its user's vanished source.
  const unlinked = new Set(plan.links.filter((l) => l.action === 'unlink').map((l) => `${l.app}\u0000${l.key}`));
  for (const target of targets) {
    const live = new Set(target.accounts.map((a) => a.key));
    const linked = new Set<string>();
    for (const link of state.links) {
      if (link.app !== target.app) continue;
      linked.add(link.key);
      if (!live.has(link.key) && !unlinked.has(`${link.app}\u0000${link.key}`)) items.push({ kind: 'target-missing', app: target.app, key: link.key, login: userLogin.get(link.userId) ?? null, attributes: [], message: `${target.app}/${link.key}, the account of ${userLogin.get(link.userId) ?? link.userId}, is gone from ${target.app}` });
    }
    const planned = new Set([...plan.accounts, ...plan.links].filter((a) => a.app === target.app).map((a) => a.key));
    for (const account of target.accounts) {
      if (!linked.has(account.key) && !planned.has(account.key)) {
        items.push({ kind: 'unmanaged-account', app: target.app, key: account.key, login: null, attributes: [], message: `${target.app}/${account.key} is not linked to any user (an orphan, or an account idplane does not manage)` });
      }
    }
  }
  const counts: Record<DriftKind, number> = { 'out-of-band': 0, 'target-changed': 0, 'target-missing': 0, 'unmanaged-account': 0, 'source-vanished': 0 };
  for (const i of items) counts[i.kind] += 1;
  return { items, counts, ...(plan.notPlanned ? { notChecked: plan.notPlanned } : {}) };
}
