/**
 * `idplane validate`: runs the engine's validation (engine/runs/validate.ts) and prints every problem
 * with its file:line:col: warnings on stderr and a one-line summary when the config is valid; errors
 * (CONFIG_INVALID, with every problem) come out through the entry point like any error.
 */
import { formatProblem } from '../../engine/config/problems.ts';
import { validate } from '../../engine/runs/validate.ts';
import { OK, type ExitCode } from '../exit-codes.ts';
import type { Output } from '../output.ts';

export async function validateCommand(dir: string, out: Output): Promise<ExitCode> {
  const result = await validate({ dir, observer: out.observer });
  if (out.format === 'json') {
    out.stdout(JSON.stringify({ valid: true, problems: result.problems }) + '\n');
  } else {
    for (const w of result.problems) out.stderr(`${formatProblem(w)}\n`);
    out.stdout(`${out.style.green('The configuration is valid.')} ${result.apps} app(s), ${result.attributes} directory attribute(s), ${result.declaredUsers} declared user(s).\n`);
  }
  return OK;
}
