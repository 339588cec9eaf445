/**
 * `idplane validate`: loads and checks the config, printing every problem with its file:line:col.
 */
import { formatProblem } from '../config/problems.ts';
import type { Output } from '../output.ts';
import { withWorkspace } from '../workspace.ts';

export async function validateCommand(dir: string, out: Output): Promise<number> {
  const ws = await withWorkspace(dir, async (ws) => ws);
  if (out.format === 'json') {
    out.stdout(JSON.stringify({ valid: true, problems: ws.warnings }) + '\n');
  } else {
    for (const w of ws.warnings) out.stderr(`${formatProblem(w)}\n`);
    const apps = Object.keys(ws.config.apps).length;
    const attributes = Object.keys(ws.config.directory.attributes).length;
    out.stdout(`${out.style.green('The configuration is valid.')} ${apps} app(s), ${attributes} directory attribute(s), ${ws.project.declaredUsers.length} declared user(s).\n`);
  }
  return 0;
}
