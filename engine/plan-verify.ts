/**
 * What `apply PLANFILE` checks before it writes anything: that the saved plan is the plan the config,
 * the state and the inputs produce. A plan is data that travels (a CI artifact between the pull
 * request's plan job and the merge's apply job), so its content is not trusted: apply recomputes the
 * plan and compares the two, line by line, as the saved one streams from disk.
 *
 * - Stale: the plan was made by another idplane, from another config, against another state, or from
 *   source data whose fingerprints have changed since; or a target changed since so that a planned
 *   account change is no longer what the config produces. Plan again.
 * - Not the plan the inputs produce (PLAN_MISMATCH): everything it was made from is the same, yet its
 *   content differs: it was edited after it was made. The error names the first differing user (or
 *   account, link, ...) and the field, never the values (they may be personal data), and says first
 *   when the change breaks one of the config's own rules (reconciler/plan-rules.ts: a role the config
 *   does not give, a protected user deactivated).
 *
 * The recomputed plan is the one applied: it has the imported records' values, which a saved plan
 * leaves out.
 */
import type { AccountChange, Plan } from '../schemas/generated/plan.ts';
import type { Project } from '../reconciler/model.ts';
import { planRules } from '../reconciler/plan-rules.ts';
import { IdplaneError } from './errors.ts';
import { isItemLine, parsePlanLine, type RawPlan } from './plan-file.ts';
import { headerOf, planSource, type PlanHeader, type PlanItem, type PlanSource } from './plan-stream.ts';
import type { ProgressTask } from './progress.ts';

const AGAIN = 'Run idplane plan again and review the new plan.';

/** Refuses a saved plan that another idplane or another config made (before the state and sources are read). */
export function checkOrigin(header: PlanHeader, file: string, now: { version: string; configFingerprint: string }): void {
  if (header.idplane_version !== now.version) {
    throw new IdplaneError('PLAN_STALE', `the saved plan ${file} is stale: idplane ${header.idplane_version} made it, and this is idplane ${now.version}, which may plan the same inputs differently. ${AGAIN}`);
  }
  if (header.fingerprints.config !== now.configFingerprint) {
    throw new IdplaneError('PLAN_STALE', `the saved plan ${file} is stale: it was made from another config (fingerprint ${short(header.fingerprints.config)}, the config's is now ${short(now.configFingerprint)}): the config changed since, or the plan file was edited. ${AGAIN}`);
  }
}

/** Refuses a saved plan made against another state, before anything else is read. */
export function checkState(header: PlanHeader, file: string, state: { lineage: string | null; serial: number; digest: string | null }): void {
  const ref = header.state;
  if (ref.lineage !== state.lineage || ref.serial !== state.serial) {
    throw new IdplaneError('PLAN_STALE', `the saved plan ${file} is stale: it was made against state serial ${ref.serial}${ref.lineage ? ` (lineage ${ref.lineage})` : ''}, but the state is now at serial ${state.serial}${state.lineage ? ` (lineage ${state.lineage})` : ''}. ${AGAIN}`);
  }
  if (ref.digest !== state.digest) {
    throw new IdplaneError('PLAN_STALE', `the saved plan ${file} is stale: the stored directory changed since it was made (its digest differs, though the serial is the same: an edit made outside idplane). ${AGAIN}`);
  }
}

/**
 * Compares the saved plan with the recomputed one; returns when they are the same plan (its creation
 * time aside). `saved` is read to its end, so a truncated or damaged file is refused too.
 */
export async function verifySavedPlan(saved: RawPlan, fresh: Plan, project: Project, file: string, progress?: ProgressTask): Promise<void> {
  const header = saved.header;
  const was = header.fingerprints.inputs;
  const now = fresh.fingerprints.inputs;
  for (const app of new Set([...Object.keys(was), ...Object.keys(now)])) {
    if (was[app] === now[app]) continue;
    const detail = was[app] === undefined ? 'it was not read for the plan' : now[app] === undefined ? 'it is no longer read' : `fingerprint ${short(was[app]!)}, now ${short(now[app]!)}`;
    throw new IdplaneError('PLAN_STALE', `the saved plan ${file} is stale: ${app}'s data changed since it was made (${detail}). ${AGAIN}`);
  }
  // Targets change under a plan all the time (other admins, other tools): that alone does not make it
  // stale. Their planned account changes must still be the ones the config produces now, save for the
  // values they expect to find (\`from\`), which the saved plan keeps: a target value changed since the
  // plan is then skipped at write time (compare-and-set), never overwritten.
  const targetsBefore = header.fingerprints.targets ?? {};
  const targetsNow = fresh.fingerprints.targets ?? {};
  const moved = new Set(Object.keys(targetsNow).filter((app) => targetsBefore[app] !== targetsNow[app]));

  const mismatch = (what: string) =>
    new IdplaneError('PLAN_MISMATCH', `the saved plan ${file} is not the plan that the config, the state and the inputs it names produce: ${what}. Its inputs are unchanged, so the file was edited after it was made; refused, nothing was written. ${AGAIN}`);
  const targetMoved = (item: PlanItem) =>
    new IdplaneError('PLAN_STALE', `the saved plan ${file} is stale: ${describe(item)} is no longer what the plan would do, since ${(item.v as { app: string }).app}'s accounts changed since it was made. ${AGAIN}`);

  const { created_at: _made, fingerprints: savedPrints, ...savedHeader } = header;
  const { created_at: _now, fingerprints: freshPrints, ...freshHeader } = headerOf(fresh);
  const headerDiff = difference({ ...savedHeader, fingerprints: { ...savedPrints, targets: undefined } }, { ...freshHeader, fingerprints: { ...freshPrints, targets: undefined } }, '');
  // Where a target moved, its changed accounts also change the header's counts: the lines then say which.
  if (headerDiff !== null && moved.size === 0) throw mismatch(`its header differs at ${headerDiff}`);
  for (const app of Object.keys(targetsBefore)) if (!(app in targetsNow)) throw mismatch(`it names a target ${app} that the config does not provision`);

  const rules = planRules(project);
  const expected = cursor(planSource(fresh));
  const keptFrom = new Map<number, AccountChange>();
  let accountIndex = -1;
  let count = 0;
  for await (const batch of saved.lines()) {
    for (const line of batch) {
      count += 1;
      // Taken from the batch in hand; only the step to the next batch waits (an await per line costs a
      // second per million lines).
      const want = expected.ready() ? expected.take() : await expected.next();
      if (want?.t === 'account') accountIndex += 1;
      // The line the recomputed plan writes: byte for byte the same is the same change, with no need to
      // parse it (the common case, and what keeps verifying a million-user plan cheap).
      if (want && want.t === line.t && isItemLine(line.text, want.t, JSON.stringify(want.v))) continue;
      const item = parsePlanLine(line.text, file, line.lineNo);
      if (item.t === 'user') {
        const broken = rules(item.v);
        if (broken) throw new IdplaneError('PLAN_MISMATCH', `the saved plan ${file} breaks the config's own rules: it ${broken}. Refused, nothing was written. ${AGAIN}`);
      }
      const inMoved = item.t === 'account' && moved.has(item.v.app);
      if (!want) throw inMoved ? targetMoved(item) : mismatch(`it lists ${describe(item)}, which the config and inputs do not produce`);
      if (want.t !== item.t) throw inMoved || (want.t === 'account' && moved.has(want.v.app)) ? targetMoved(inMoved ? item : want) : mismatch(`where the recomputed plan has ${describe(want)}, it has ${describe(item)}`);
      const sameItem = identity(item) === identity(want);
      if (inMoved) {
        if (!sameItem) throw targetMoved(item);
        if (difference(withoutFrom(item.v), withoutFrom(want.v as AccountChange), '') !== null) throw targetMoved(item);
        keptFrom.set(accountIndex, item.v);
        continue;
      }
      const diff = difference(item.v, want.v, '');
      // Equal once parsed (written with other spacing or key order): the same change.
      if (diff === null) continue;
      throw mismatch(sameItem ? `${describe(item)} differs at ${diff}` : `where the recomputed plan has ${describe(want)}, it has ${describe(item)}`);
    }
    progress?.update(count);
  }
  const left = await expected.next();
  if (left) throw left.t === 'account' && moved.has(left.v.app) ? targetMoved(left) : mismatch(`it leaves out ${describe(left)}`);
  if (headerDiff !== null) {
    throw new IdplaneError('PLAN_STALE', `the saved plan ${file} is stale: its header differs at ${headerDiff} from the plan the config produces now that ${[...moved].join(', ')}'s accounts changed since it was made. ${AGAIN}`);
  }
  for (const [index, change] of keptFrom) fresh.accounts[index] = change;
  progress?.finish(count);
}

/** An account change without the values it expects to find. */
function withoutFrom(change: AccountChange): unknown {
  return { ...change, attributes: Object.fromEntries(Object.entries(change.attributes).map(([name, v]) => [name, { ...v, from: undefined }])) };
}

/** The items of a plan source in order: `take` while `ready`, else `next` (null at the end). */
function cursor(source: PlanSource): { ready: () => boolean; take: () => PlanItem; next: () => Promise<PlanItem | null> } {
  const batches = source.batches()[Symbol.asyncIterator]();
  let batch: readonly PlanItem[] = [];
  let at = 0;
  return {
    ready: () => at < batch.length,
    take: () => batch[at++]!,
    async next() {
      while (at >= batch.length) {
        const step = await batches.next();
        if (step.done) return null;
        batch = step.value;
        at = 0;
      }
      return batch[at++]!;
    },
  };
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
    case 'account': case 'link': case 'import': case 'review': return `${item.t}\u0000${item.v.app}\u0000${item.v.key}`;
    case 'watermark': return `watermark\u0000${item.v.app}`;
    default: return item.t;
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
