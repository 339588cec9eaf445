/**
 * The blockers of a plan (why apply refuses it) as the views list them: text for terminals and CI logs,
 * and Markdown for pull-request comments, where broken policies come first (what a reviewer asked to
 * be told about). Shared by the plan's views and the plan delta's.
 */
import type { NotPlannedApp, PlanBlocker, PlanSummary } from '../../schemas/generated/plan.ts';
import type { Style } from './style.ts';

const LABEL: Partial<Record<PlanBlocker['code'], string>> = { safeguard: 'Safeguard', policy: 'Policy' };

export function blockerTextLines(blockers: readonly PlanBlocker[], style: Style): string[] {
  return blockers.map((b) => style.red(`  - ${LABEL[b.code] ? `${LABEL[b.code]!.toUpperCase()}: ` : ''}${b.message}`));
}

/** `> - ` lines for a caution block; `scrub` masks the messages. */
export function blockerMarkdownLines(blockers: readonly PlanBlocker[], scrub: (text: string) => string): string[] {
  const ordered = [...blockers].sort((a, b) => Number(b.code === 'policy') - Number(a.code === 'policy'));
  return ordered.map((b) => `> - ${LABEL[b.code] ? `**${LABEL[b.code]}:** ` : ''}${scrub(b.message)}`);
}

const ROLE: Record<NotPlannedApp['role'], string> = {
  target: 'no account change planned for it',
  source: 'its users keep their last imported values; no lifecycle change from it',
};

/** The apps a plan left out because they could not be read, for terminals and CI logs. */
export function notPlannedTextLines(apps: readonly NotPlannedApp[] | undefined, style: Style): string[] {
  if (!apps || apps.length === 0) return [];
  return [
    '', style.yellow(style.bold(`Not planned: ${apps.length} app(s) could not be read; the rest of the plan goes on without them.`)),
    ...apps.map((n) => style.yellow(`  - ${n.app}: cannot ${n.operation}: ${n.reason} (${ROLE[n.role]})`)),
  ];
}

/** A warning block naming the apps a plan left out; `scrub` masks the reasons. */
export function notPlannedMarkdownLines(apps: readonly NotPlannedApp[] | undefined, scrub: (text: string) => string): string[] {
  if (!apps || apps.length === 0) return [];
  return [
    '> [!WARNING]', `> **${apps.length} app(s) not planned: they could not be read.** The rest of the plan goes on without them; the next plan that can read them plans them.`,
    ...apps.map((n) => `> - \`${n.app}\`: cannot ${n.operation}: ${scrub(n.reason)} (${ROLE[n.role]})`),
    '',
  ];
}

/**
 * The sentence every rendering opens with when a plan gives or takes super_admin (the one role that
 * makes a user undeactivatable by imports), or null; `user` renders a login (masked in shared outputs).
 */
export function superAdminSentence(summary: PlanSummary, user: (login: string) => string): string | null {
  const s = summary.superAdmin;
  if (!s || s.granted.length + s.removed.length === 0) return null;
  const list = (logins: readonly string[]) => {
    const shown = logins.slice(0, 20).map(user);
    return logins.length > 20 ? `${shown.join(', ')} and ${logins.length - 20} more` : shown.join(', ');
  };
  const parts: string[] = [];
  if (s.granted.length > 0) parts.push(`gives super_admin to ${list(s.granted)}`);
  if (s.removed.length > 0) parts.push(`takes super_admin from ${list(s.removed)}`);
  return `This plan ${parts.join(' and ')}.`;
}
