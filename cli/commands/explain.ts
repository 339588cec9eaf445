/**
 * `idplane explain LOGIN [ATTR]`: runs the engine's explain (engine/runs/explain.ts): the provenance of a
 * user's values and the run that last changed each. Text or JSON. It changes nothing and needs no lock.
 */
import { explain } from '../../engine/runs/explain.ts';
import { OK, type ExitCode } from '../exit-codes.ts';
import type { Output } from '../output.ts';
import { renderExplainText } from '../views/explain-text.ts';

export async function explainCommand(dir: string, login: string, attribute: string | undefined, out: Output): Promise<ExitCode> {
  const result = await explain({ dir, observer: out.observer, login, ...(attribute === undefined ? {} : { attribute }) });
  out.stdout(out.format === 'json' ? JSON.stringify(result) + '\n' : renderExplainText(result, attribute));
  return OK;
}
