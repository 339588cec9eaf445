/**
 * The config: loading (idplane.yaml and its includes, every value located at its file:line:col),
 * validation as data (the JSON Schema, then the semantic checks, into a compiled Project or every
 * problem at once), and the problems' text. The schema validator is left out: the build replaces it
 * with a precompiled one, and nothing outside this folder needs it.
 */
export { CONFIG_FILE, loadConfig, type ConfigFiles, type LoadedConfig, type LoadOutcome } from './load.ts';
export { validateConfig, type ValidateOutcome } from './validate.ts';
export { checkColumns, type SourceColumns } from './columns.ts';
export { AD_DISABLED } from './semantics.ts';
export { closest, formatProblem, fromPointer, toPointer, type At, type ConfigProblem, type Severity } from './problems.ts';
