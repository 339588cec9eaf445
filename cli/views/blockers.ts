/**
 * The blockers of a plan (why apply refuses it) as the views list them: text for terminals and CI logs,
 * and Markdown for pull-request comments, where broken policies come first (what a reviewer asked to
 * be told about). Shared by the plan's views and the plan delta's.
 */
import type { PlanBlocker } from '../../schemas/generated/plan.ts';
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
