/**
 * `idplane validate`: loads and checks the config, printing every problem with its file:line:col. Beyond
 * the config itself it checks the columns each CSV import names against the file's header row (read
 * up to that row only); LDAP and SCIM apps are not contacted (`idplane schema discover APP` shows what
 * they have).
 */
import { isAbsolute, resolve } from 'node:path';
import type { CsvConnection } from '../../schemas/generated/config.ts';
import { checkColumns, type SourceColumns } from '../../engine/config/columns.ts';
import { formatProblem, toPointer, type ConfigProblem } from '../../engine/config/problems.ts';
import { ConfigError } from '../../engine/errors.ts';
import type { Output } from '../output.ts';
import { withWorkspace, type Workspace } from '../../engine/workspace.ts';

export async function validateCommand(dir: string, out: Output): Promise<number> {
  const { ws, problems } = await withWorkspace(dir, async (ws) => ({ ws, problems: await sourceProblems(ws) }));
  const all = [...ws.warnings, ...problems].sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.col - b.col);
  if (all.some((p) => p.severity === 'error')) throw new ConfigError(all);
  if (out.format === 'json') {
    out.stdout(JSON.stringify({ valid: true, problems: all }) + '\n');
  } else {
    for (const w of all) out.stderr(`${formatProblem(w)}\n`);
    const apps = Object.keys(ws.config.apps).length;
    const attributes = Object.keys(ws.config.directory.attributes).length;
    out.stdout(`${out.style.green('The configuration is valid.')} ${apps} app(s), ${attributes} directory attribute(s), ${ws.project.declaredUsers.length} declared user(s).\n`);
  }
  return 0;
}

/** The problems only the sources can show: columns the config names that a CSV import does not have. */
async function sourceProblems(ws: Workspace): Promise<ConfigProblem[]> {
  const problems: ConfigProblem[] = [];
  for (const app of Object.values(ws.project.apps)) {
    const config = app.config;
    if (config.provider !== 'csv' || !config.import) continue;
    const columns = await csvColumns(ws, app.name, app.key, config.connection);
    if ('problem' in columns) problems.push(columns.problem);
    else problems.push(...checkColumns(ws.config, columns, ws.locate));
  }
  return problems;
}

async function csvColumns(ws: Workspace, app: string, key: string, connection: CsvConnection): Promise<SourceColumns | { problem: ConfigProblem }> {
  const { readCsvColumns } = await import('../../providers/csv/read.ts');
  const path = isAbsolute(connection.path) ? connection.path : resolve(ws.dir, connection.path);
  try {
    return { app, columns: await readCsvColumns({ app, path, displayPath: connection.path, connection, key }), from: connection.path };
  } catch (error) {
    const message = (error as Error).message;
    const keyMissing = /the key column/.test(message);
    const pointer = toPointer(keyMissing && ws.config.apps[app]!.key !== undefined ? ['apps', app, 'key'] : ['apps', app, 'connection', 'path']);
    // A file that is not there yet (made by an earlier CI step, say) cannot be checked: a warning.
    const missing = /no such file/.test(message);
    return { problem: { severity: missing ? 'warning' : 'error', ...ws.locate.locate(pointer), pointer, message: missing ? `cannot check ${app}'s columns: ${message}` : message } };
  }
}
