/**
 * The validate run: loads and checks the config (every problem at its file:line:col) and, beyond the
 * config itself, the columns each CSV import names against the file's header row (read up to that row
 * only). LDAP, SCIM, HTTP and Okta apps are not contacted (discover.ts asks them). Errors throw
 * CONFIG_INVALID with every problem, warnings included; a valid config returns its warnings and counts.
 */
import { isAbsolute, resolve } from 'node:path';
import type { CsvConnection } from '../../schemas/generated/config.ts';
import { atBoundary } from '../boundary.ts';
import { checkColumns, type SourceColumns } from '../config/columns.ts';
import { toPointer, type ConfigProblem } from '../config/problems.ts';
import { ConfigError } from '../errors.ts';
import { withWorkspace, type Workspace } from '../workspace.ts';
import { runContext, type RunOptions } from './run-options.ts';

export interface ValidateResult {
  /** The warnings (there are no errors), sorted by file, line and column. */
  problems: ConfigProblem[];
  apps: number;
  attributes: number;
  declaredUsers: number;
}

export async function validate(options: RunOptions): Promise<ValidateResult> {
  return atBoundary(async () => {
    const { ws, problems } = await withWorkspace(options.dir, async (ws) => ({ ws, problems: await sourceProblems(ws) }), runContext(options).open);
    const all = [...ws.warnings, ...problems].sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.col - b.col);
    if (all.some((p) => p.severity === 'error')) throw new ConfigError(all);
    return { problems: all, apps: Object.keys(ws.config.apps).length, attributes: Object.keys(ws.config.directory.attributes).length, declaredUsers: ws.project.declaredUsers.length };
  });
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
