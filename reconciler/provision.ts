/**
 * Provisioning, stage 7b and 8b: the accounts each target should hold for the directory after this plan,
 * diffed against the target's live accounts. An assigned ACTIVE user gets an enabled account with the
 * mapped values; any other user's account is disabled (deleted only where the target allows it). An
 * existing account is found through the stored link, then by the key the mappings give, then by the
 * target's match rule, and linked instead of duplicated. Updates carry only the attributes whose mapped
 * value changed. A write-back to a profile source never writes what that app sources, and skips a value
 * the source changed since the last import (compare-and-set), reporting it.
 * ldap targets with provision.dn: every change carries the entry's DN after it (`dn`: the RDN attribute's
 * mapped value, escaped, under the parent the CEL gives); an entry whose live DN differs is updated (the
 * provider renames or moves it) even when no attribute changed. An Active Directory target without
 * provision.status reads enabled/disabled from the userAccountControl ACCOUNTDISABLE bit (2).
 */
import type { AccountChange, PlanIssue, SkippedAttribute, TargetValueChange } from '../schemas/generated/plan.ts';
import { ExpressionError } from './expressions.ts';
import { buildDn, parseDn, sameDn } from './ldap-escape.ts';
import { recordAttributes } from './records.ts';
import { importedRecord, type CompiledApp, type CompiledProvision, type DirectoryState, type SourceAccount, type SourceSnapshot, type StoredLink, type UserRecord } from './model.ts';

export interface ProvisionOutcome {
  accounts: AccountChange[];
  conflicts: PlanIssue[];
  warnings: PlanIssue[];
}

export interface ProvisionInput {
  apps: CompiledApp[];
  /** Every directory attribute: unset ones are null in `user`, so a mapping of an optional one is empty, not an error. */
  attributeNames: string[];
  state: DirectoryState;
  /** The directory after this plan's user changes. */
  users: UserRecord[];
  targets: SourceSnapshot[];
  /** The links after this plan's directory changes (stored links plus the plan's own). */
  links: StoredLink[];
  /** Targets left out of this plan because they could not be read: nothing is planned for them. */
  notPlanned?: ReadonlySet<string>;
}

export function provisionTargets(input: ProvisionInput): ProvisionOutcome {
  const { apps, state, users, targets, links } = input;
  const out: ProvisionOutcome = { accounts: [], conflicts: [], warnings: [] };
  const blank = Object.fromEntries(input.attributeNames.map((a) => [a, null]));
  const live = new Map(targets.map((t) => [t.app, t]));
  for (const app of apps) {
    if (!app.provision || input.notPlanned?.has(app.name)) continue;
    const snapshot = live.get(app.name) ?? { app: app.name, accounts: [], rowErrors: [], fingerprint: 'empty' };
    if (snapshot.rowErrors.length > 0) {
      out.warnings.push({ code: 'target-skipped', app: app.name, message: `${snapshot.rowErrors.length} account(s) of ${app.name} could not be read (first: line ${snapshot.rowErrors[0]!.line}); no account changes are pushed to ${app.name} until they are fixed, so nothing is duplicated or lost` });
      continue;
    }
    provisionOne({ app, p: app.provision, state, users, snapshot, links, blank }, out);
  }
  out.accounts.sort((a, b) => (a.app < b.app ? -1 : a.app > b.app ? 1 : a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return out;
}

interface TargetContext {
  app: CompiledApp;
  p: CompiledProvision;
  state: DirectoryState;
  users: UserRecord[];
  snapshot: SourceSnapshot;
  links: StoredLink[];
  blank: Record<string, null>;
}

function provisionOne(ctx: TargetContext, out: ProvisionOutcome): void {
  const { app, p, state, users, snapshot, links } = ctx;
  const byKey = new Map(snapshot.accounts.map((a) => [a.key, a]));
  const linkedKey = new Map<string, string>();
  const linkedTo = new Map<string, string>();
  for (const l of links) {
    if (l.app !== app.name) continue;
    linkedKey.set(l.userId, l.key);
    linkedTo.set(l.key, l.userId);
  }
  const byMatch = new Map<string, SourceAccount[]>();
  if (p.match) {
    for (const a of snapshot.accounts) {
      const v = a.attributes[p.match.app]?.trim().toLowerCase();
      if (!v) continue;
      const list = byMatch.get(v);
      if (list) list.push(a);
      else byMatch.set(v, [a]);
    }
  }
  const claimed = new Set<string>();

  for (const user of users) {
    const userVars = { ...ctx.blank, ...user.profile, login: user.login, status: user.status, roles: user.roles };
    let assigned: boolean;
    try {
      assigned = p.assign === null || p.assign.evaluate({ user: userVars }) === true;
    } catch (error) {
      out.warnings.push({ code: 'expression-error', app: app.name, users: [user.login], message: `assign expression failed for ${user.login}, so their ${app.name} account is left as it is: ${message(error)}` });
      continue;
    }
    const wantEnabled = assigned && user.status === 'ACTIVE';
    const storedKey = linkedKey.get(user.id);
    let account = storedKey !== undefined ? byKey.get(storedKey) : undefined;
    if (storedKey !== undefined && !account && wantEnabled) {
      out.warnings.push({ code: 'target-skipped', app: app.name, key: storedKey, users: [user.login], message: `${app.name}/${storedKey}, linked to ${user.login}, is gone from the target; it is created again` });
    }
    if (!wantEnabled && !account) continue;

    const mapped = evaluateMappings(app, p, user, userVars, out);
    if (!mapped) continue;
    const desiredKey = mapped[app.key] ?? '';
    // A DN that cannot be built stops a create or update (a conflict), never a disable (it just does not move).
    let dn = p.dn ? entryDn(app, p.dn, mapped, userVars, user, wantEnabled ? out : null) : undefined;
    if (dn === null) {
      if (wantEnabled) continue;
      dn = undefined;
    }
    let link = false;
    if (!account) {
      const found = findExisting(p, byKey, byMatch, desiredKey, user);
      if (found.length > 1) {
        out.conflicts.push({ code: 'ambiguous-match', app: app.name, users: [user.login], message: `${found.length} ${app.name} accounts (${found.map((a) => a.key).join(', ')}) match ${user.login}; idplane never guesses`, resolution: `remove the duplicate in ${app.name}` });
        continue;
      }
      account = found[0];
      if (account) {
        const owner = linkedTo.get(account.key);
        if ((owner !== undefined && owner !== user.id) || claimed.has(account.key)) {
          out.conflicts.push({ code: 'already-linked', app: app.name, key: account.key, users: [user.login], message: `${app.name}/${account.key} matches ${user.login} but belongs to another user` });
          continue;
        }
        link = true;
      }
    }
    if (account) claimed.add(account.key);

    if (!account) {
      if (!p.create) continue;
      if (desiredKey === '') {
        out.conflicts.push({ code: 'missing-required', app: app.name, users: [user.login], attribute: app.key, message: `the ${app.name} mapping for the key ${app.key} is empty for ${user.login}, so no account can be created` });
        continue;
      }
      const attributes: Record<string, TargetValueChange> = {};
      for (const [k, v] of Object.entries(mapped)) if (k !== app.key && v !== '') attributes[k] = { from: null, to: v };
      out.accounts.push({ action: 'create', app: app.name, key: desiredKey, userId: user.id, login: user.login, attributes, link: true, ...(dn ? { dn } : {}), reason: `${user.login} is assigned to ${app.name}` });
      continue;
    }

    const enabled = accountEnabled(app, p, account);
    const change = diffAccount(app, p, state, user, account, mapped);
    // ldap: a DN change (RDN value or parent) is an update of its own; update: false never moves.
    const liveDn = account.attributes.dn;
    const moves = dn !== undefined && p.update && liveDn !== undefined && liveDn !== '' && !sameDn(dn, liveDn);
    let action: AccountChange['action'] | null = null;
    let reason = '';
    if (wantEnabled) {
      if (!enabled && p.deactivate) [action, reason] = ['enable', `${user.login} is assigned and active again`];
      else if (p.update && Object.keys(change.attributes).length > 0) [action, reason] = ['update', `${user.login}'s mapped values changed${moves ? `; the entry moves to ${dn}` : ''}`];
      else if (moves) [action, reason] = ['update', `${user.login}'s ${app.name} entry moves to ${dn}`];
      else if (link) [action, reason] = ['link', `existing ${app.name} account matches ${user.login}`];
      // update: false writes no values, whatever the action (a link never writes).
      if (!p.update) change.attributes = {};
    } else if (enabled && p.deactivate) {
      [action, reason] = [p.delete ? 'delete' : 'disable', assigned ? `${user.login} is ${user.status}` : `${user.login} is no longer assigned to ${app.name}`];
      change.attributes = {};
    } else if (link) {
      [action, reason] = ['link', `existing ${app.name} account matches ${user.login}`];
    }
    // Skips and races only matter where values are pushed: not for a disable, a delete or update: false.
    if (wantEnabled && p.update) out.warnings.push(...change.races);
    else change.skipped = [];
    if (!action) continue;
    out.accounts.push({
      action, app: app.name, key: account.key, userId: user.id, login: user.login, attributes: change.attributes, link,
      // What disables it, for a target that suspends rather than deactivates (okta).
      ...(action === 'disable' && assigned ? { userStatus: user.status } : {}),
      ...(change.skipped.length > 0 ? { skipped: change.skipped } : {}),
      ...(dn !== undefined && p.update && action !== 'link' && action !== 'delete' ? { dn } : {}), reason,
    });
  }
}

/**
 * ldap: the DN the user's entry should have, or null (with a conflict in `out`, when given) when it cannot
 * be built. The RDN value is escaped here; the parent is used as the CEL gives it (it is a DN, not a value).
 */
function entryDn(app: CompiledApp, template: NonNullable<CompiledProvision['dn']>, mapped: Record<string, string>, userVars: Record<string, unknown>, user: UserRecord, out: ProvisionOutcome | null): string | null {
  const value = mapped[template.rdn] ?? '';
  if (value === '') {
    out?.conflicts.push({ code: 'missing-required', app: app.name, users: [user.login], attribute: template.rdn, message: `the ${app.name} mapping for the RDN attribute ${template.rdn} is empty for ${user.login}, so the entry has no DN` });
    return null;
  }
  let parent: unknown;
  try {
    parent = template.parent.evaluate({ user: userVars });
  } catch (error) {
    out?.conflicts.push({ code: 'expression-error', app: app.name, users: [user.login], message: `${app.name} dn.parent (${template.parent.text}) failed for ${user.login}: ${message(error)}` });
    return null;
  }
  if (typeof parent !== 'string' || parent.trim() === '') {
    out?.conflicts.push({ code: 'expression-error', app: app.name, users: [user.login], message: `${app.name} dn.parent (${template.parent.text}) gave ${JSON.stringify(parent)} for ${user.login}; it must be a non-empty DN string` });
    return null;
  }
  const dn = buildDn(template.rdn, value, parent);
  try {
    parseDn(dn);
  } catch (error) {
    out?.conflicts.push({ code: 'expression-error', app: app.name, users: [user.login], message: `${app.name} dn.parent (${template.parent.text}) gave ${JSON.stringify(parent)} for ${user.login}: ${(error as Error).message}` });
    return null;
  }
  return dn;
}

/** Whether a live account is enabled: the status attribute, or for Active Directory the ACCOUNTDISABLE bit. */
function accountEnabled(app: CompiledApp, p: CompiledProvision, account: SourceAccount): boolean {
  const config = app.config;
  if (config.provider === 'ldap' && config.connection.flavor === 'ad' && !config.provision?.status) {
    const uac = Number.parseInt(account.attributes.userAccountControl ?? '', 10);
    return Number.isNaN(uac) || (uac & 2) === 0;
  }
  return (account.attributes[p.status.attribute] ?? p.status.enabled) !== p.status.disabled;
}

function evaluateMappings(app: CompiledApp, p: CompiledProvision, user: UserRecord, userVars: Record<string, unknown>, out: ProvisionOutcome): Record<string, string> | null {
  const mapped: Record<string, string> = {};
  for (const m of p.mappings) {
    try {
      mapped[m.attribute] = toText(m.expression.evaluate({ user: userVars }));
    } catch (error) {
      out.conflicts.push({ code: 'expression-error', app: app.name, users: [user.login], attribute: m.attribute, message: `${app.name} mapping for ${m.attribute} (${m.expression.text}) failed for ${user.login}: ${message(error)}` });
      return null;
    }
  }
  return mapped;
}

function findExisting(p: CompiledProvision, byKey: Map<string, SourceAccount>, byMatch: Map<string, SourceAccount[]>, desiredKey: string, user: UserRecord): SourceAccount[] {
  const byDesiredKey = desiredKey ? byKey.get(desiredKey) : undefined;
  if (byDesiredKey) return [byDesiredKey];
  if (!p.match) return [];
  const value = p.match.user === 'login' ? user.login : user.profile[p.match.user];
  if (typeof value !== 'string' || value.trim() === '') return [];
  return byMatch.get(value.trim().toLowerCase()) ?? [];
}

/** Changed attributes (on: always only), minus what a write-back must leave alone, with the races found. */
function diffAccount(app: CompiledApp, p: CompiledProvision, state: DirectoryState, user: UserRecord, account: SourceAccount, mapped: Record<string, string>) {
  const attributes: Record<string, TargetValueChange> = {};
  const skipped: SkippedAttribute[] = [];
  const races: PlanIssue[] = [];
  const record = app.import ? importedRecord(state.imported, app.name, account.key) : undefined;
  let unpacked: Record<string, string> | undefined;
  const lastImport = () => (record ? (unpacked ??= recordAttributes(state.imported.get(app.name)!, record)) : undefined);
  for (const m of p.mappings) {
    if (m.on === 'create' || m.attribute === app.key) continue;
    const now = account.attributes[m.attribute] ?? '';
    const to = mapped[m.attribute]!;
    if (now === to) continue;
    if (p.sourcedAttributes.has(m.attribute)) {
      skipped.push({ attribute: m.attribute, reason: `${app.name} sources ${m.attribute}; a write-back never overwrites it` });
      continue;
    }
    const imported = lastImport()?.[m.attribute];
    if (imported !== undefined && imported !== now) {
      skipped.push({ attribute: m.attribute, reason: `changed in ${app.name} since the last import (${JSON.stringify(imported)} → ${JSON.stringify(now)}); not overwritten` });
      races.push({ code: 'write-back-race', app: app.name, key: account.key, users: [user.login], attribute: m.attribute, message: `write-back to ${app.name} skips ${m.attribute} for ${user.login}: ${app.name} changed it since the last import, and pushing would overwrite that change` });
      continue;
    }
    attributes[m.attribute] = { from: now === '' ? null : now, to: to === '' ? null : to };
  }
  return { attributes, skipped, races };
}

function toText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) return value.map(String).join(',');
  return String(value);
}

function message(error: unknown): string {
  return error instanceof ExpressionError ? error.message : String(error);
}
