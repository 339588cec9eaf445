/**
 * Rules a user change must keep whatever the data says, because the config alone decides them: a role
 * comes only from the config (a declared user's `roles`, or `set:`) or is one the user already has,
 * and a protected user (directory.protect.roles) is deactivated or suspended only by a declared status.
 * Apply checks them on every user of a saved plan, so a plan file edited to grant `super_admin` or to
 * deactivate an administrator is refused with that reason. (Apply also recomputes the plan and refuses
 * any difference; these rules say why a difference is dangerous, and hold even where that check is not
 * made.) Pure.
 */
import type { UserChange } from '../schemas/generated/plan.ts';
import type { Project } from './model.ts';

export type RuleCheck = (change: UserChange) => string | null;

export function planRules(project: Project): RuleCheck {
  const declared = new Map(project.declaredUsers.map((u) => [u.login.toLowerCase(), u]));
  const protectedRoles = new Set(project.protectRoles);
  const isProtected = (roles: readonly string[] | undefined) => (roles ?? []).some((r) => protectedRoles.has(r));
  return (change) => {
    const login = change.after.login.toLowerCase();
    const given = new Set([...(declared.get(login)?.roles ?? []), ...(project.setValues.get(login)?.roles ?? [])]);
    const before = new Set(change.before?.roles ?? []);
    const granted = change.after.roles.filter((r) => !given.has(r) && !before.has(r));
    if (granted.length > 0) {
      return `gives ${change.after.login} the role${granted.length > 1 ? 's' : ''} ${granted.join(', ')}, which the config does not give them (roles come only from users: and set:)`;
    }
    const stops = change.action === 'deactivate' || change.action === 'suspend';
    if (stops && (isProtected(change.before?.roles) || isProtected(change.after.roles)) && declared.get(login)?.status !== change.after.status) {
      return `${change.action}s ${change.after.login}, a protected user (directory.protect.roles), which only a status declared in users: can do`;
    }
    return null;
  };
}
