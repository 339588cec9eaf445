/**
 * `idplane drift`: runs the engine's drift (engine/runs/drift.ts) and shows it as text, JSON or Markdown
 * (personal data masked unless --show-personal-data). Exit codes: 0 no drift, 2 drift, 4 no drift found
 * but some apps could not be read (so not checked), 1 error. It changes nothing.
 */
import { drift } from '../../engine/runs/drift.ts';
import { CHANGES, NOT_PLANNED, OK, type ExitCode } from '../exit-codes.ts';
import type { Output } from '../output.ts';
import { renderDriftMarkdown, renderDriftText } from '../views/drift.ts';

export async function driftCommand(dir: string, options: { showPersonalData?: boolean }, out: Output): Promise<ExitCode> {
  const { report, lineage } = await drift({ dir, observer: out.observer });
  switch (out.format) {
    case 'json': out.stdout(JSON.stringify(report) + '\n'); break;
    case 'markdown': out.stdout(renderDriftMarkdown(report, options.showPersonalData === true, lineage)); break;
    case 'text': out.stdout(renderDriftText(report, out.style)); break;
    default: {
      const never: never = out.format;
      throw new Error(`unknown format ${String(never)}`);
    }
  }
  if (report.items.length > 0) return CHANGES;
  return report.notChecked ? NOT_PLANNED : OK;
}
