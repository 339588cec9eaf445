/**
 * The drift report (engine/runs/drift.ts) as text, grouped by kind with counts, or as Markdown for a
 * shared issue or PR: counts first, details collapsed, logins and account keys masked as the plan's
 * Markdown masks them (masking.ts) unless unmasked.
 */
import type { DriftItem, DriftKind, DriftReport } from '../../reconciler/drift.ts';
import { createMasking } from './masking.ts';
import type { Style } from './style.ts';

const TITLES: Record<DriftKind, string> = {
  'out-of-band': 'Attributes edited in the directory outside idplane',
  'target-changed': 'Target accounts edited outside idplane',
  'target-missing': 'Linked target accounts that are gone',
  'unmanaged-account': 'Target accounts no user is linked to',
  'source-vanished': 'Users whose source account vanished',
};

function groups(report: DriftReport): [DriftKind, DriftItem[]][] {
  return (Object.keys(TITLES) as DriftKind[]).map((k) => [k, report.items.filter((i) => i.kind === k)] as [DriftKind, DriftItem[]]).filter(([, list]) => list.length > 0);
}

export function renderDriftText(report: DriftReport, style: Style): string {
  const unread = (report.notChecked ?? []).map((n) => style.yellow(`Not checked: ${n.app} could not be read (${n.reason}); its drift is unknown.`));
  if (report.items.length === 0) return `${style.green('No drift.')} The directory and the targets are as the last apply left them${unread.length ? ', as far as they could be read' : ''}.\n${unread.map((l) => l + '\n').join('')}`;
  const lines: string[] = [];
  for (const [kind, list] of groups(report)) {
    lines.push(style.bold(`${TITLES[kind]} (${list.length}):`));
    for (const i of list) lines.push(`  ${style.yellow('!')} ${i.message}`);
    lines.push('');
  }
  lines.push(`${report.items.length} drift item(s). Run idplane plan to see what apply would do about them.`, ...unread);
  return lines.join('\n') + '\n';
}

/** Logins and account keys as the plan's Markdown shows them (views/masking.ts), unless unmasked. */
export function renderDriftMarkdown(report: DriftReport, unmasked: boolean, lineage: string | null): string {
  const masking = createMasking({ unmasked, salt: lineage });
  const mask = (text: string, item: DriftItem) => masking.text(text, [item.login, item.key]);
  const lines = ['## idplane drift', ''];
  for (const n of report.notChecked ?? []) lines.push(`> [!WARNING]\n> \`${n.app}\` could not be read, so its drift is unknown: ${masking.text(n.reason, [])}`, '');
  if (report.items.length === 0) return `${lines.join('\n')}**No drift.**\n`;
  lines.push('| kind | count |', '| --- | ---: |', ...groups(report).map(([k, list]) => `| ${TITLES[k]} | ${list.length} |`), '');
  lines.push('<details><summary>Details</summary>', '');
  for (const [, list] of groups(report)) for (const i of list) lines.push(`- ${mask(i.message, i)}`);
  lines.push('', '</details>');
  if (!unmasked) lines.push('', '<sub>Personal data is masked; run with --show-personal-data to see it.</sub>');
  return lines.join('\n') + '\n';
}
