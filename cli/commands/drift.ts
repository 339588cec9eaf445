/**
 * `idplane drift`: reports what changed behind idplane's back (SPEC §5) as text, JSON or Markdown (personal
 * data masked unless --show-personal-data). Exit codes: 0 no drift, 2 drift, 4 no drift found but some
 * apps could not be read (so not checked), 1 error. It changes nothing.
 */
import { computeDrift, type DriftItem, type DriftKind, type DriftReport } from '../../reconciler/drift.ts';
import type { Output } from '../output.ts';
import { createMasking } from '../views/masking.ts';
import { NOT_PLANNED } from '../exit-codes.ts';
import { inspectWorkspace, readState, withWorkspace } from '../../engine/workspace.ts';

const TITLES: Record<DriftKind, string> = {
  'out-of-band': 'Attributes edited in the directory outside idplane',
  'target-changed': 'Target accounts edited outside idplane',
  'target-missing': 'Linked target accounts that are gone',
  'unmanaged-account': 'Target accounts no user is linked to',
  'source-vanished': 'Users whose source account vanished',
};

export async function driftCommand(dir: string, options: { showPersonalData?: boolean }, out: Output): Promise<number> {
  const { report, lineage } = await withWorkspace(dir, async (ws) => {
    const state = await readState(ws, out.progress);
    const { plan, targets } = await inspectWorkspace(ws, state, out.progress);
    return { report: computeDrift(plan, state, targets), lineage: state.lineage };
  });
  switch (out.format) {
    case 'json': out.stdout(JSON.stringify(report) + '\n'); break;
    case 'markdown': out.stdout(renderMarkdown(report, options.showPersonalData === true, lineage)); break;
    case 'text': out.stdout(renderText(report, out)); break;
    default: {
      const never: never = out.format;
      throw new Error(`unknown format ${String(never)}`);
    }
  }
  if (report.items.length > 0) return 2;
  return report.notChecked ? NOT_PLANNED : 0;
}

function groups(report: DriftReport): [DriftKind, DriftItem[]][] {
  return (Object.keys(TITLES) as DriftKind[]).map((k) => [k, report.items.filter((i) => i.kind === k)] as [DriftKind, DriftItem[]]).filter(([, list]) => list.length > 0);
}

function renderText(report: DriftReport, out: Output): string {
  const unread = (report.notChecked ?? []).map((n) => out.style.yellow(`Not checked: ${n.app} could not be read (${n.reason}); its drift is unknown.`));
  if (report.items.length === 0) return `${out.style.green('No drift.')} The directory and the targets are as the last apply left them${unread.length ? ', as far as they could be read' : ''}.\n${unread.map((l) => l + '\n').join('')}`;
  const lines: string[] = [];
  for (const [kind, list] of groups(report)) {
    lines.push(out.style.bold(`${TITLES[kind]} (${list.length}):`));
    for (const i of list) lines.push(`  ${out.style.yellow('!')} ${i.message}`);
    lines.push('');
  }
  lines.push(`${report.items.length} drift item(s). Run idplane plan to see what apply would do about them.`, ...unread);
  return lines.join('\n') + '\n';
}

/** Logins and account keys as the plan's Markdown shows them (views/masking.ts), unless unmasked. */
function renderMarkdown(report: DriftReport, unmasked: boolean, lineage: string | null): string {
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
