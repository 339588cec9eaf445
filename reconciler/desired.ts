/**
 * Stage 7, desired directory: for every user this run touches, the record the directory should hold:
 * profile (map), status (lifecycle), profile source and roles, plus the issues found on the way.
 * Also evaluates each linked account's `disabled` expression once, for lifecycle and the import records.
 */
import type { PlanIssue } from '../schemas/generated/plan.ts';
import type { Correlation } from './correlate.ts';
import { ExpressionError } from './expressions.ts';
import { computeLifecycle, type LifecycleOutcome } from './lifecycle.ts';
import { mapUser } from './map.ts';
import type { DirectoryState, Project, UserRecord } from './model.ts';
import type { SourcedUser } from './resolve-source.ts';

export interface DesiredUser {
  sourced: SourcedUser;
  after: UserRecord;
  outOfBand: Set<string>;
  lifecycle: LifecycleOutcome;
  /** Issues that stop this user's change (conflicts). */
  issues: PlanIssue[];
}

export interface DesiredDirectory {
  users: DesiredUser[];
  /** `${app}\0${key}` → whether the account is disabled. */
  disabled: Map<string, boolean>;
  issues: PlanIssue[];
}

export const accountId = (app: string, key: string) => `${app}\u0000${key}`;

export function desiredDirectory(project: Project, state: DirectoryState, correlation: Correlation, sourced: SourcedUser[]): DesiredDirectory {
  const { disabled, issues } = evaluateDisabled(project, correlation);
  const protectedRoles = new Set(project.protectRoles);
  const users: DesiredUser[] = [];
  for (const user of sourced) {
    const mapped = mapUser(project, user, state.imported);
    const mappedLogin = typeof mapped.profile.login === 'string' ? mapped.profile.login : user.current?.login;
    const setRoles = mappedLogin ? project.setValues.get(mappedLogin.toLowerCase())?.roles : undefined;
    const roles = user.declared ? (user.declared.roles ?? []) : (setRoles ?? user.current?.roles ?? []);
    const primaryAccount = user.accounts.get(user.primary);
    const policy = project.apps[user.primary]?.import ?? null;
    const vanishedApp = user.primary === 'directory' && !user.declared ? lastSource(user) : null;
    const lifecycle = computeLifecycle({
      current: user.current?.status ?? null,
      policy,
      disabled: primaryAccount ? disabled.get(accountId(user.primary, primaryAccount.key)) === true : false,
      vanished: vanishedApp ? { app: vanishedApp, policy: project.apps[vanishedApp]?.import?.onMissing ?? 'none' } : null,
      declaredStatus: user.declared ? (user.declared.status ?? 'ACTIVE') : null,
      isProtected: roles.some((r) => protectedRoles.has(r)),
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

/** The source a now-unsourced user lost in this run: their stored source if it vanished, else the first. */
function lastSource(user: SourcedUser): string | null {
  if (user.missingFrom.length === 0) return null;
  const stored = user.current?.profileSource;
  return stored && user.missingFrom.includes(stored) ? stored : user.missingFrom[0]!;
}

function evaluateDisabled(project: Project, correlation: Correlation) {
  const disabled = new Map<string, boolean>();
  const issues: PlanIssue[] = [];
  for (const p of correlation.pairings) {
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
    disabled.set(accountId(p.app, p.account.key), value);
  }
  return { disabled, issues };
}
