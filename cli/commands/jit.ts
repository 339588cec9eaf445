/**
 * `idplane jit APP`: one account's attributes, a JSON object on stdin (as main.ts reads it), through the
 * engine's JIT run (engine/runs/jit.ts): the user created or updated now, under the state lock. Text
 * shows the change as a plan shows it, then one line; JSON is the result.
 */
import { planSource } from '../../engine/plan-stream.ts';
import { jit } from '../../engine/runs/jit.ts';
import { OK, type ExitCode } from '../exit-codes.ts';
import type { Output } from '../output.ts';
import { renderPlanText } from '../views/plan-text.ts';

export async function jitCommand(dir: string, app: string, input: string, options: { lockTimeoutMs?: number }, out: Output): Promise<ExitCode> {
  const result = await jit({ dir, observer: out.observer, app, account: input, inputName: 'stdin', ...options });
  const { key, change, login, action } = result;
  if (out.format === 'json') {
    out.stdout(JSON.stringify({ app, key, action, login, user: result.user, change }) + '\n');
  } else if (!change) {
    out.stdout(`jit: ${app}/${key} → ${login ?? '(no user)'}: no change.\n`);
  } else {
    await renderPlanText(planSource(result.plan), out.style, out.sink);
    out.stdout(`jit: ${app}/${key} → ${change.login}: ${action} done (status ${change.after.status}).\n`);
  }
  return OK;
}
