/**
 * Stage 7, desired directory: for every user this run touches, the record the directory should hold:
 * profile (map), status (lifecycle), profile source and roles, plus the issues found on the way.
 * Also evaluates the `disabled` expression once for each account of those users, for lifecycle and the
 * import records.
 */
import type { PlanIssue } from '../schemas/generated/plan.ts';
import type { Pairing } from './correlate.ts';
import { ExpressionError } from './expressions.ts';
import { computeLifecycle, type LifecycleOutcome } from './lifecycle.ts';
import { mapUser } from './map.ts';
import type { DirectoryState, Project, SourceAccount, UserRecord } from './model.ts';
import type { SourcedUser } from './resolve-source.ts';

export interface DesiredUser {
  sourced: SourcedUser;
  after: UserRecord;
  outOfBand: ReadonlySet<string>;
  lifecycle: LifecycleOutcome;
  /** Issues that stop this user's change (conflicts). */
  issues: PlanIssue[];
}

export interface DesiredDirectory {
  users: DesiredUser[];
  /** Whether each account of those users (by the account read) is disabled. */
  disabled: Map<SourceAccount, boolean>;
  issues: PlanIssue[];
}

/** The roles of the many users that have none: one frozen list, not one per user. */
const NO_ROLES: string[] = Object.freeze([]) as unknown as string[];

/** `pairings`: those of the users in `sourced` (resolveSources keeps them). */
export function desiredDirectory(project: Project, state: DirectoryState, pairings: readonly Pairing[], sourced: SourcedUser[], tick?: (done: number, total: number) => void): DesiredDirectory {
  const { disabled, issues } = evaluateDisabled(project, pairings);
  const protectedRoles = new Set(project.protectRoles);
  // A value that differs from what the unchanged source maps to was edited here, unless the config that
  // maps it changed since the state was evaluated (then the config explains the difference).
  const sameConfig = state.pipeline === null || state.pipeline === project.pipelineFingerprint;
  const users: DesiredUser[] = [];
  for (const user of sourced) {
    if (tick && ((users.length + 1) & 4095) === 0) tick(users.length + 1, sourced.length);
    const mapped = mapUser(project, user, sameConfig ? state.imported : null);
    const mappedLogin = typeof mapped.profile.login === 'string' ? mapped.profile.login : user.current?.login;
    const roles = user.declared ? (user.declared.roles ?? NO_ROLES) : (setEntry(project, mappedLogin, user.current?.login)?.roles ?? NO_ROLES);
    const primaryAccount = user.accounts.get(user.primary);
    const policy = project.apps[user.primary]?.import ?? null;
    const vanishedApp = user.primary === 'directory' && !user.declared ? lastSource(user) : null;
    const lifecycle = computeLifecycle({
      current: user.current?.status ?? null,
      policy,
      disabled: primaryAccount ? disabled.get(primaryAccount) === true : false,
      vanished: vanishedApp ? { app: vanishedApp, policy: project.apps[vanishedApp]?.import?.onMissing ?? 'none' } : null,
      declaredStatus: user.declared ? (user.declared.status ?? 'ACTIVE') : null,
      isProtected: roles.length > 0 && roles.some((r) => protectedRoles.has(r)),
    });
    const login = typeof mapped.profile.login === 'string' ? mapped.profile.login : (user.current?.login ?? '');
    users.push({
      sourced: user,
      after: { id: user.id, login, status: lifecycle.status, profile: mapped.profile, profileSource: user.primary, roles },
      lifecycle,
      outOfBand: mapped.outOfBand,
      issues: mapped.issues,
    });
  }
  return { users, disabled, issues };
}

/**
 * The `set:` entry of a user: by the login the plan gives them, else by the stored one (an HR rename
 * keeps what set: gives until the entry is renamed too). Roles come only from users: and set:, so a
 * user without an entry holds none: removing the entry takes its roles away.
 */
function setEntry(project: Project, login: string | undefined, stored: string | undefined) {
  if (project.setValues.size === 0) return undefined;
  return (login ? project.setValues.get(login.toLowerCase()) : undefined) ?? (stored ? project.setValues.get(stored.toLowerCase()) : undefined);
}

/** The source a now-unsourced user lost in this run: their stored source if it vanished, else the first. */
function lastSource(user: SourcedUser): string | null {
  if (user.missingFrom.length === 0) return null;
  const stored = user.current?.profileSource;
  return stored && user.missingFrom.includes(stored) ? stored : user.missingFrom[0]!;
}

function evaluateDisabled(project: Project, pairings: readonly Pairing[]) {
  const disabled = new Map<SourceAccount, boolean>();
  const issues: PlanIssue[] = [];
  for (const p of pairings) {
    const expression = project.apps[p.app]?.import?.disabled;
    let value = false;
    if (expression) {
      try {
        const result = expression.evaluate({ app: p.account.attributes, source: p.app });
        if (typeof result === 'boolean') value = result;
        else issues.push({ code: 'expression-error', app: p.app, key: p.account.key, line: p.account.line, message: `disabled expression (${expression.text}) gave ${JSON.stringify(result)}, not true or false` });
      } catch (error) {
        const message = error instanceof ExpressionError ? error.message : String(error);
        issues.push({ code: 'expression-error', app: p.app, key: p.account.key, line: p.account.line, message: `disabled expression (${expression.text}) failed: ${message}` });
      }
    }
    disabled.set(p.account, value);
  }
  return { disabled, issues };
}
