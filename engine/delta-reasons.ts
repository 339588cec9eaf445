/**
 * Why a pull request's config plans differently: the settings it changes that decide users and accounts
 * (each import's mappings and `disabled`, each target's `assign` and mappings), with where each is
 * written and its text before and after; and the unchanged expressions of targets that read a user
 * attribute whose mapping changed (an `assign` that reads department stops matching when department's
 * mapping changes). The delta's views name them beside the groups and counts they explain. Config
 * expressions are not personal data; they are shown as written.
 */
import type { ProvisionConfig } from '../schemas/generated/config.ts';
import type { DeltaReason } from '../schemas/generated/plan-delta.ts';
import { userReferences } from '../reconciler/app-references.ts';
import { toPointer } from './config/problems.ts';
import { provisionOf } from './config/provision.ts';
import type { Workspace } from './workspace.ts';

type Side = Pick<Workspace, 'config' | 'locate'>;

/**
 * `headFile` names a file of the working tree's config as the comment shows it (relative to the
 * repository, as the base's are).
 */
export function deltaReasons(base: Side, head: Side, headFile: (file: string) => string = (f) => f): DeltaReason[] {
  const reasons: DeltaReason[] = [];
  const place = (path: (string | number)[], hasHead: boolean): string => {
    const where = (hasHead ? head : base).locate.locate(toPointer(path));
    return `${hasHead ? headFile(where.file) : where.file}:${where.line}:${where.col}`;
  };
  const compare = (path: (string | number)[], was: string | null, now: string | null, affects: DeltaReason['affects']) => {
    if (was === now) return;
    reasons.push({ setting: path.join('.'), location: place(path, now !== null), base: was, head: now, affects });
  };
  const apps = [...new Set([...Object.keys(base.config.apps), ...Object.keys(head.config.apps)])].sort();
  const changedAttributes = new Set<string>();
  for (const app of apps) {
    const [b, h] = [base.config.apps[app]?.import, head.config.apps[app]?.import];
    for (const attribute of names(b?.mappings, h?.mappings)) {
      const [was, now] = [b?.mappings[attribute] ?? null, h?.mappings[attribute] ?? null];
      if (was !== now) changedAttributes.add(attribute);
      compare(['apps', app, 'import', 'mappings', attribute], was, now, { app, attribute });
    }
    compare(['apps', app, 'import', 'disabled'], b?.disabled ?? null, h?.disabled ?? null, { app, status: true });
  }
  for (const app of apps) {
    const [b, h] = [base.config.apps[app], head.config.apps[app]].map((entry) => (entry ? provisionOf(entry) : undefined));
    compare(['apps', app, 'provision', 'assign'], assignText(b?.assign), assignText(h?.assign), { app, assignment: true });
    for (const attribute of names(b?.mappings, h?.mappings)) {
      compare(['apps', app, 'provision', 'mappings', attribute], mappingText(b?.mappings[attribute]), mappingText(h?.mappings[attribute]), { app, accountAttribute: attribute });
    }
    if (!h || changedAttributes.size === 0) continue;
    // Unchanged expressions of this target that read a user attribute whose mapping changed.
    const reading = (text: string | null) => (text === null ? [] : [...new Set(userReferences(text))].filter((name) => changedAttributes.has(name)));
    const assign = assignText(h.assign);
    if (assign !== null && assign === assignText(b?.assign) && reading(assign).length > 0) {
      reasons.push({ setting: `apps.${app}.provision.assign`, location: place(['apps', app, 'provision', 'assign'], true), base: assign, head: assign, affects: { app, assignment: true }, reads: reading(assign) });
    }
    for (const attribute of Object.keys(h.mappings)) {
      const text = mappingText(h.mappings[attribute]);
      if (text === null || text !== mappingText(b?.mappings[attribute]) || reading(text).length === 0) continue;
      reasons.push({ setting: `apps.${app}.provision.mappings.${attribute}`, location: place(['apps', app, 'provision', 'mappings', attribute], true), base: text, head: text, affects: { app, accountAttribute: attribute }, reads: reading(text) });
    }
  }
  return reasons;
}

function names(a: Record<string, unknown> | undefined, b: Record<string, unknown> | undefined): string[] {
  return [...new Set([...Object.keys(a ?? {}), ...Object.keys(b ?? {})])].sort();
}

function assignText(assign: ProvisionConfig['assign']): string | null {
  return assign === undefined ? null : String(assign);
}

function mappingText(mapping: string | { value: string } | undefined): string | null {
  return mapping === undefined ? null : typeof mapping === 'string' ? mapping : mapping.value;
}
