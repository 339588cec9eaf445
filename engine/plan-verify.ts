/**
 * What `apply PLANFILE` checks before it writes anything: that the saved plan (the artifact a pull
 * request's reviewer approved) is what the config produces now. A plan is data that travels (a CI artifact
 * between the pull request's plan job and the merge's apply job), so its content is not trusted: apply
 * recomputes the plan and compares the two, line by line, as the saved one streams from disk.
 *
 * - Stale (PLAN_STALE): made by another idplane, from another config, or against another state lineage.
 *   Plan again.
 * - Nothing it was made from moved (the same state, source data and targets): the recomputed plan must be
 *   the saved one, save its creation time. Any difference means the file was edited after it was made
 *   (PLAN_MISMATCH), named by the first differing user (or account, link, ...) and field, never the values
 *   (they may be personal data), and said first when it breaks one of the config's own rules
 *   (reconciler/plan-rules.ts: a role the config does not give, a protected user deactivated).
 * - The data or the state moved since (a new HR row, a JIT sign-in, a scheduled import, another apply):
 *   that is not by itself a reason to refuse. Each user's first line carries the digest of their inputs
 *   when the plan was made (reconciler/review-inputs.ts). A user whose digest is the same
 *   must get exactly the saved changes (the reviewed effect); a user whose digest differs, or who was not
 *   in the saved plan, is a data change since the review, planned again and reported as such; records,
 *   reviews and watermarks are data. Any other difference is refused, naming the first, with the count of
 *   each part. The recomputed plan is then checked and applied whole, data changes included, so they
 *   count against safeguards and policies like any data change.
 * - A target whose accounts changed since: an account change that differs only in the values it expects
 *   to find keeps the saved ones (a value changed since is then skipped at write time, compare-and-set,
 *   never overwritten); one that differs otherwise is a data change of that target.
 *
 * The recomputed plan is the one applied: it has the imported records' values, which a saved plan
 * leaves out.
 */
import type { AccountChange, ImportChange, Plan } from '../schemas/generated/plan.ts';
import type { DirectoryState, Project } from '../reconciler/model.ts';
import { planRules } from '../reconciler/plan-rules.ts';
import { userInputs, type InputsOf } from '../reconciler/review-inputs.ts';
import { IdplaneError } from './errors.ts';
import { isItemLine, parsePlanLine, type RawPlan } from './plan-file.ts';
import { headerOf, LISTS, withoutValues, type ItemKind, type PlanHeader, type PlanItem } from './plan-stream.ts';
import { formatCount as n, type ProgressTask } from './progress.ts';

const AGAIN = 'Run idplane plan again and review the new plan.';

/** Refuses a saved plan that another idplane or another config made (before the state and sources are read). */
export function checkOrigin(header: PlanHeader, file: string, now: { version: string; configFingerprint: string }): void {
  if (header.idplane_version !== now.version) {
    throw new IdplaneError('PLAN_STALE', `the saved plan ${file} is stale: idplane ${header.idplane_version} made it, and this is idplane ${now.version}, which may plan the same inputs differently. ${AGAIN}`);
  }
  if (header.fingerprints.config !== now.configFingerprint) {
    throw new IdplaneError('PLAN_STALE', `the saved plan ${file} is stale: it was made from another config (fingerprint ${short(header.fingerprints.config)}, the config's is now ${short(now.configFingerprint)}): the config changed since (another change merged first?), or the plan file was edited. ${AGAIN}`);
  }
}

/** Refuses a saved plan made against another state (another lineage), before anything else is read. */
export function checkState(header: PlanHeader, file: string, state: { lineage: string | null }): void {
  const ref = header.state;
  if (ref.lineage !== null && ref.lineage !== state.lineage) {
    throw new IdplaneError('PLAN_STALE', `the saved plan ${file} is stale: it was made against another state (lineage ${ref.lineage}), and this state's lineage is ${state.lineage ?? 'none: it was never written'}. ${AGAIN}`);
  }
}

/**
 * Why a user's changes differ from the saved plan's: their inputs changed, the saved change was made since
 * (by another apply of it, a scheduled import or a JIT sign-in), they were not in it, or a target's
 * accounts changed.
 */
export type SinceReason = 'inputs' | 'applied' | 'new' | 'target';

/** What apply of a saved plan found, in the parts it reports. */
export interface ReviewCheck {
  /** Whether anything the plan was made from moved since (state, source data or targets). */
  moved: boolean;
  /** User, account and link changes exactly as the saved plan shows them: the reviewed effect. */
  reviewed: number;
  /** The users whose changes are data changes since the review, each once, in the order met. */
  since: { userId: string; login: string; why: SinceReason; changes: number }[];
  /** Records, reviews, watermarks, warnings and conflicts that differ from the saved plan's (data). */
  records: number;
}

/**
 * Compares the saved plan with the recomputed one (see the top of this file); returns what it found, or
 * throws when something differs that neither the data nor a target explains. `saved` is read to its end,
 * so a truncated or damaged file is refused too.
 */
export async function verifySavedPlan(saved: RawPlan, fresh: Plan, project: Project, file: string, state: DirectoryState, progress?: ProgressTask): Promise<ReviewCheck> {
  const header = saved.header;
  const was = header.fingerprints.inputs;
  const now = fresh.fingerprints.inputs;
  const dataMoved = header.state.serial !== state.serial || header.state.digest !== state.digest
    || [...new Set([...Object.keys(was), ...Object.keys(now)])].some((app) => was[app] !== now[app]);
  const targetsBefore = header.fingerprints.targets ?? {};
  const targetsNow = fresh.fingerprints.targets ?? {};
  const moved = new Set(Object.keys(targetsNow).filter((app) => targetsBefore[app] !== targetsNow[app]));
  const strict = !dataMoved && moved.size === 0;

  const mismatch = (what: string) =>
    new IdplaneError('PLAN_MISMATCH', `the saved plan ${file} is not the plan that the config, the state and the inputs it names produce: ${what}. Its inputs are unchanged, so the file was edited after it was made; refused, nothing was written. ${AGAIN}`);
  const headerDiff = strict ? difference(comparable(header), comparable(headerOf(fresh)), '') : difference(configured(header), configured(headerOf(fresh)), '');
  if (headerDiff !== null) throw mismatch(`its header differs at ${headerDiff}`);
  for (const app of Object.keys(targetsBefore)) if (!(app in targetsNow)) throw mismatch(`it names a target ${app} that the config does not provision`);

  const rules = planRules(project);
  const lists = Object.fromEntries(LISTS.map(([list, t]) => [t, fresh[list] as readonly PlanItem['v'][]])) as Record<ItemKind, readonly PlanItem['v'][]>;
  const matched = Object.fromEntries(LISTS.map(([, t]) => [t, new Uint8Array(lists[t].length)])) as Record<ItemKind, Uint8Array>;
  const position = Object.fromEntries(LISTS.map(([, t]) => [t, 0])) as Record<ItemKind, number>;
  const indexes = new Map<ItemKind, Map<string, number>>();
  const indexOf = (t: ItemKind) => {
    let index = indexes.get(t);
    if (!index) indexes.set(t, (index = new Map(lists[t].map((v, j) => [identity({ t, v } as PlanItem), j]))));
    return index;
  };
  /** The digest of each saved user's inputs (only needed, and kept, when the data moved). */
  const reviewedInputs = new Map<string, string>();
  let inputsNow: InputsOf | null = null;
  const check: ReviewCheck = { moved: !strict, reviewed: 0, since: [], records: 0 };
  const since = new Map<string, ReviewCheck['since'][number]>();
  const refused: string[] = [];
  let refusedCount = 0;
  const keptFrom = new Map<number, AccountChange>();

  /** A saved item (s) and the recomputed one of the same identity (f) that differ, either possibly absent. */
  const classify = (s: PlanItem | null, f: PlanItem | null, at: number, cursor: PlanItem | null): void => {
    const item = (s ?? f)!;
    if (strict) {
      if (s && f) throw mismatch(`${describe(s)} differs at ${difference(s.v, f.v, '')}`);
      if (s) throw mismatch(cursor ? `where the recomputed plan has ${describe(cursor)}, it has ${describe(s)}` : `it lists ${describe(s)}, which the config and inputs do not produce`);
      throw mismatch(`it leaves out ${describe(f!)}`);
    }
    if (item.t !== 'user' && item.t !== 'account' && item.t !== 'link') {
      check.records += 1;
      return;
    }
    const userId = item.t === 'user' ? item.v.id : item.v.userId;
    const login = ((f ?? s)!.v as { login: string }).login;
    const dataChange = (why: SinceReason) => {
      const entry = since.get(userId);
      if (entry) entry.changes += 1;
      else since.set(userId, { userId, login, why, changes: 1 });
    };
    if (item.t === 'account' && moved.has(item.v.app)) {
      if (s && f && difference(withoutFrom(s.v as AccountChange), withoutFrom(f.v as AccountChange), '') === null) {
        keptFrom.set(at, s.v as AccountChange);
        check.reviewed += 1;
      } else dataChange('target');
      return;
    }
    const before = (s && 'i' in s ? s.i : undefined) ?? reviewedInputs.get(userId);
    if (dataMoved && before === undefined && !s) return dataChange('new');
    if (dataMoved && before !== undefined && before !== (inputsNow ??= userInputs(state, fresh))(userId)) return dataChange(s && !f && inEffect(s) ? 'applied' : 'inputs');
    refusedCount += 1;
    if (refused.length === 0) {
      const what = s && f ? `${describe(s)} differs at ${difference(s.v, f.v, '')}` : s ? `${describe(s)} is no longer produced` : `${describe(f!)} is not in it`;
      refused.push(before === undefined ? `${what} (the saved plan carries no digest of its inputs: it was made by an idplane that did not write one)` : what);
    }
  };

  let stored: { users: Map<string, unknown>; links: Map<string, string> } | null = null;
  /** Whether the state already holds what a saved user or link change makes (it was applied since). */
  const inEffect = (s: PlanItem): boolean => {
    stored ??= { users: new Map(state.users.map((u) => [u.id, u])), links: new Map(state.links.map((l) => [`${l.app}\u0000${l.key}`, l.userId])) };
    if (s.t === 'user') return difference(stored.users.get(s.v.id) ?? null, s.v.after, '') === null;
    if (s.t === 'link') return stored.links.get(`${s.v.app}\u0000${s.v.key}`) === (s.v.action === 'link' ? s.v.userId : undefined);
    return false;
  };

  let count = 0;
  for await (const batch of saved.lines()) {
    for (const line of batch) {
      count += 1;
      const { t } = line;
      const list = lists[t];
      const seen = matched[t];
      let at = position[t];
      while (at < list.length && seen[at] === 1) at += 1;
      position[t] = at;
      const cursor = at < list.length ? ({ t, v: list[at] } as PlanItem) : null;
      // The line the recomputed plan writes: byte for byte the same is the same change, with no need to
      // parse it (the common case, and what keeps verifying a million-user plan cheap).
      if (cursor) {
        const same = isItemLine(line.text, t, JSON.stringify(t === 'import' ? withoutValues(cursor.v as ImportChange) : cursor.v));
        if (same !== false) {
          seen[at] = 1;
          position[t] = at + 1;
          if (t === 'user' || t === 'account' || t === 'link') {
            check.reviewed += 1;
            if (same !== null && dataMoved) reviewedInputs.set(t === 'user' ? (cursor.v as { id: string }).id : (cursor.v as { userId: string }).userId, same);
          }
          continue;
        }
      }
      const item = parsePlanLine(line.text, file, line.lineNo);
      if (item.t === 'user') {
        const broken = rules(item.v);
        if (broken) throw new IdplaneError('PLAN_MISMATCH', `the saved plan ${file} breaks the config's own rules: it ${broken}. Refused, nothing was written. ${AGAIN}`);
      }
      if (dataMoved && 'i' in item && item.i !== undefined) reviewedInputs.set(item.t === 'user' ? item.v.id : item.v.userId, item.i);
      const j = indexOf(t).get(identity(item));
      const want = j !== undefined && seen[j] !== 1 ? ({ t, v: list[j] } as PlanItem) : null;
      if (j !== undefined && want) {
        seen[j] = 1;
        if (j >= position[t]) position[t] = j + 1;
      }
      if (want && difference(item.v, t === 'import' ? withoutValues(want.v as ImportChange) : want.v, '') === null) {
        if (t === 'user' || t === 'account' || t === 'link') check.reviewed += 1;
        continue;
      }
      classify(item, want, j ?? -1, want ? null : cursor);
    }
    progress?.update(count);
  }
  for (const [, t] of LISTS) {
    const seen = matched[t];
    for (let j = 0; j < seen.length; j++) if (seen[j] !== 1) classify(null, { t, v: lists[t][j] } as PlanItem, j, null);
  }
  if (refusedCount > 0) {
    const dataChanges = since.size > 0 ? `; ${n(since.size)} user(s) changed since the review, which apply would have planned again` : '';
    throw new IdplaneError('PLAN_MISMATCH', `the saved plan ${file} is not what the config produces now for users whose inputs did not change since it was made: ${n(refusedCount)} change(s) differ, the first: ${refused[0]}. Of the rest, ${n(check.reviewed)} change(s) are the reviewed effect${dataChanges}. Refused, nothing was written. ${AGAIN}`);
  }
  for (const [index, change] of keptFrom) fresh.accounts[index] = change;
  check.since = [...since.values()];
  progress?.finish(count);
  return check;
}

/** The header without what differs between two plans of the same inputs: when it was made, and the targets' fingerprints (checked line by line). */
function comparable(header: PlanHeader): unknown {
  const { created_at: _made, fingerprints, ...rest } = header;
  return { ...rest, fingerprints: { ...fingerprints, targets: undefined } };
}

/** The header's parts that the config alone decides: what must be the same whatever the data. */
function configured(header: PlanHeader): unknown {
  return { format_version: header.format_version, idplane_version: header.idplane_version, config: header.fingerprints.config, pipeline: header.fingerprints.pipeline, unmasked: header.unmaskedAttributes };
}

/** An account change without the values it expects to find. */
function withoutFrom(change: AccountChange): unknown {
  return { ...change, attributes: Object.fromEntries(Object.entries(change.attributes).map(([name, v]) => [name, { ...v, from: undefined }])) };
}

/** Names an item without its values: users by login, accounts, links and records by app and key. */
function describe(item: PlanItem): string {
  switch (item.t) {
    case 'user': return `the ${item.v.action} of user ${item.v.login}`;
    case 'account': return `the ${item.v.action} of ${item.v.app} account ${item.v.key} (user ${item.v.login})`;
    case 'link': return `the ${item.v.action} of ${item.v.app} account ${item.v.key}`;
    case 'import': return `the ${item.v.action} of ${item.v.app} record ${item.v.key}`;
    case 'review': return `a review of ${item.v.app} account ${item.v.key}`;
    case 'watermark': return `the watermark of ${item.v.app}`;
    case 'warning': return `a warning (${item.v.code})`;
    case 'conflict': return `a conflict (${item.v.code})`;
  }
}

function identity(item: PlanItem): string {
  switch (item.t) {
    case 'user': return `user\u0000${item.v.id}`;
    case 'link': return `link\u0000${item.v.app}\u0000${item.v.key}\u0000${item.v.action}`;
    case 'account': case 'import': case 'review': return `${item.t}\u0000${item.v.app}\u0000${item.v.key}`;
    case 'watermark': return `watermark\u0000${item.v.app}`;
    default: return `${item.t}\u0000${JSON.stringify(item.v)}`;
  }
}

/**
 * The path of the first place where two JSON values differ (`after.profile.title`, `roles[1]`), or null
 * when they are equal. A key holding undefined counts as absent, as in JSON.
 */
export function difference(a: unknown, b: unknown, path: string): string | null {
  if (a === b) return null;
  const at = path || '(the whole value)';
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return at;
  if (Array.isArray(a) !== Array.isArray(b)) return at;
  if (Array.isArray(a)) {
    const other = b as unknown[];
    for (let i = 0; i < Math.max(a.length, other.length); i += 1) {
      if (i >= a.length || i >= other.length) return `${path}[${i}]`;
      const d = difference(a[i], other[i], `${path}[${i}]`);
      if (d !== null) return d;
    }
    return null;
  }
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  for (const key in left) {
    const d = difference(left[key], right[key], path ? `${path}.${key}` : key);
    if (d !== null) return d;
  }
  for (const key in right) if (!Object.hasOwn(left, key) && right[key] !== undefined) return path ? `${path}.${key}` : key;
  return null;
}

function short(fingerprint: string): string {
  return `${fingerprint.slice(0, 19)}…`;
}
