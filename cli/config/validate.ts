/**
 * Validation as data: takes the loaded config and returns the typed config plus the compiled project, or
 * every problem at once. First the JSON Schema (ajv, all errors, with "did you mean" for misspelled keys),
 * then the semantic checks the schema cannot express: unknown apps in profileSources, mappings to
 * undeclared attributes, CEL expressions that do not compile (pointing at the column inside the
 * expression), links and sourcing that name unknown apps, duplicate declared users.
 */
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import schema from '../../schemas/config.schema.json' with { type: 'json' };
import type { IdplaneConfig } from '../../schemas/generated/config.ts';
import { compileExpression, type CompiledExpression } from '../../reconciler/expressions.ts';
import type { CompiledApp, Project } from '../../reconciler/model.ts';
import type { LoadedConfig } from './load.ts';
import { closest, fromPointer, toPointer, type ConfigProblem } from './problems.ts';

export type ValidateOutcome =
  | { ok: true; config: IdplaneConfig; project: Project; warnings: ConfigProblem[] }
  | { ok: false; problems: ConfigProblem[] };

// verbose: errors carry their parentSchema, which the "did you mean" hints read the allowed keys from.
const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true, verbose: true });
const validateSchema = ajv.compile<IdplaneConfig>(schema);

export function validateConfig(loaded: LoadedConfig): ValidateOutcome {
  const problems: ConfigProblem[] = [];
  const at: At = (pointer, message, key = false, place = loaded.locate(pointer, key)) => problems.push({ severity: 'error', ...place, pointer, message });

  if (!validateSchema(loaded.value)) {
    for (const error of relevantErrors(validateSchema.errors ?? [])) {
      const { pointer, key, message } = describeSchemaError(error, loaded.value);
      at(pointer, message, key);
    }
    return { ok: false, problems: sortProblems(problems) };
  }
  const config = loaded.value as unknown as IdplaneConfig;
  const project = checkSemantics(config, loaded, at);
  return problems.length > 0 ? { ok: false, problems: sortProblems(problems) } : { ok: true, config, project: project!, warnings: [] };
}

/** Drops the noise ajv emits around the real error (the failed `if`, a oneOf's other branch). */
function relevantErrors(errors: ErrorObject[]): ErrorObject[] {
  const seen = new Set<string>();
  return errors.filter((e) => {
    // propertyNames only repeats the error of its inner keyword, which names the property too.
    if (e.keyword === 'if' || e.keyword === 'oneOf' || e.keyword === 'propertyNames') return false;
    const id = `${e.instancePath}|${propertyNameError(e) ?? ''}|${e.keyword}|${JSON.stringify(e.params)}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

function describeSchemaError(error: ErrorObject, root: unknown): { pointer: string; key: boolean; message: string } {
  const pointer = error.instancePath;
  const where = pointer === '' ? 'the config' : pointer.slice(1).split('/').join('.');
  switch (error.keyword) {
    case 'additionalProperties': {
      const extra = String((error.params as { additionalProperty: string }).additionalProperty);
      // Not error.schemaPath: inside a $ref'd definition ajv makes it relative to that definition.
      const allowed = Object.keys((error.parentSchema as { properties?: Record<string, unknown> } | undefined)?.properties ?? {});
      const hint = closest(extra, allowed);
      return {
        pointer: `${pointer}${toPointer([extra])}`, key: true,
        message: `unknown key ${JSON.stringify(extra)} in ${where}${hint ? `; did you mean ${JSON.stringify(hint)}?` : allowed.length ? ` (allowed: ${allowed.join(', ')})` : ''}`,
      };
    }
    case 'required':
      return { pointer, key: false, message: `${where} is missing the required key ${JSON.stringify((error.params as { missingProperty: string }).missingProperty)}` };
    case 'enum': {
      const allowed = (error.params as { allowedValues: unknown[] }).allowedValues;
      const value = valueAt(root, pointer);
      const hint = typeof value === 'string' ? closest(value, allowed.map(String)) : null;
      return { pointer, key: false, message: `${where} must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}; got ${JSON.stringify(value)}${hint ? `; did you mean ${JSON.stringify(hint)}?` : ''}` };
    }
    case 'const':
      return { pointer, key: false, message: `${where} must be ${JSON.stringify((error.params as { allowedValue: unknown }).allowedValue)}` };
    case 'type':
      return { pointer, key: false, message: `${where} must be ${String((error.params as { type: string }).type).replace(',', ' or ')}` };
    case 'pattern': {
      const name = propertyNameError(error);
      const pattern = (error.params as { pattern: string }).pattern;
      if (name) return { pointer: name, key: true, message: `invalid name ${JSON.stringify(fromPointer(name).at(-1))} in ${where}: it must match ${pattern}` };
      return { pointer, key: false, message: `${where}: ${JSON.stringify(valueAt(root, pointer))} does not match ${pattern}` };
    }
    case 'propertyNames': {
      const name = String((error.params as { propertyName: string }).propertyName);
      return { pointer: `${pointer}/${name}`, key: true, message: `invalid name ${JSON.stringify(name)} in ${where}` };
    }
    default:
      return { pointer, key: false, message: `${where} ${error.message ?? 'is invalid'}` };
  }
}

function propertyNameError(error: ErrorObject): string | null {
  const name = (error as ErrorObject & { propertyName?: string }).propertyName;
  return name ? `${error.instancePath}${toPointer([name])}` : null;
}

function valueAt(root: unknown, pointer: string): unknown {
  let node = root;
  for (const segment of fromPointer(pointer)) node = (node as Record<string, unknown> | null)?.[segment];
  return node;
}

function sortProblems(problems: ConfigProblem[]): ConfigProblem[] {
  return problems.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.col - b.col);
}

type At = (pointer: string, message: string, key?: boolean, place?: { file: string; line: number; col: number }) => void;

function checkSemantics(config: IdplaneConfig, loaded: LoadedConfig, at: At): Project | null {
  const attributes = config.directory.attributes;
  const attributeNames = Object.keys(attributes);
  const apps = config.apps;
  const importApps = Object.keys(apps).filter((name) => apps[name]!.import);
  const unknownAttribute = (name: string) => `${JSON.stringify(name)} is not a directory attribute${hint(name, attributeNames)}`;

  const profileSources = config.profileSources ?? importApps;
  config.profileSources?.forEach((app, i) => {
    if (!own(apps, app)) at(toPointer(['profileSources', i]), `unknown app ${JSON.stringify(app)}${hint(app, Object.keys(apps))}`);
    else if (!own(apps, app)!.import) at(toPointer(['profileSources', i]), `app ${JSON.stringify(app)} has no import: section, so it cannot be a profile source`);
  });
  if (config.profileSources) {
    for (const app of importApps) {
      if (!config.profileSources.includes(app)) at(toPointer(['apps', app, 'import']), `app ${JSON.stringify(app)} imports users but is not listed in profileSources; add it where it belongs in the priority order`, true);
    }
  }
  for (const [name, attribute] of Object.entries(attributes)) {
    const source = attribute.source;
    if (source && source !== 'directory' && !own(apps, source)?.import) {
      at(toPointer(['directory', 'attributes', name, 'source']), `source ${JSON.stringify(source)} must be "directory" or an app with an import: section${hint(source, ['directory', ...importApps])}`);
    } else if (source && source !== 'directory' && !own(own(apps, source)!.import!.mappings, name)) {
      at(toPointer(['directory', 'attributes', name, 'source']), `attribute ${name} is sourced from ${source}, but ${source} has no mapping for ${name}`);
    }
  }
  const logins = new Map<string, number>();
  (config.users ?? []).forEach((user, i) => {
    const seen = logins.get(user.login.toLowerCase());
    if (seen !== undefined) at(toPointer(['users', i, 'login']), `declared user ${user.login} is declared twice (also users[${seen}])`);
    logins.set(user.login.toLowerCase(), i);
    for (const name of Object.keys(user.profile ?? {})) {
      if (!own(attributes, name)) at(toPointer(['users', i, 'profile', name]), unknownAttribute(name), true);
    }
  });
  (config.links ?? []).forEach((link, i) => {
    if (!own(apps, link.app)) at(toPointer(['links', i, 'app']), `unknown app ${JSON.stringify(link.app)}${hint(link.app, Object.keys(apps))}`);
  });

  const compiled: Record<string, CompiledApp> = {};
  for (const [name, app] of Object.entries(apps)) {
    const imp = app.import;
    const compile = (pointer: (string | number)[], text: string): CompiledExpression | null => {
      const outcome = compileExpression(text);
      if (outcome.ok) return outcome.expression;
      const p = toPointer(pointer);
      // The problem points inside the expression, not at the start of its scalar.
      const place = loaded.locateInScalar(p, outcome.offset);
      at(p, `CEL expression does not compile at column ${place.col}: ${outcome.message}`, false, place);
      return null;
    };
    const mappings = [];
    for (const [attribute, text] of Object.entries(imp?.mappings ?? {})) {
      if (!own(attributes, attribute)) at(toPointer(['apps', name, 'import', 'mappings', attribute]), unknownAttribute(attribute), true);
      const expression = compile(['apps', name, 'import', 'mappings', attribute], text);
      if (expression) mappings.push({ attribute, expression });
    }
    (imp?.match ?? []).forEach((rule, i) => {
      if (!own(attributes, rule.user)) at(toPointer(['apps', name, 'import', 'match', i, 'user']), unknownAttribute(rule.user));
    });
    const disabled = imp?.disabled ? compile(['apps', name, 'import', 'disabled'], imp.disabled) : null;
    compiled[name] = {
      name, config: app, key: app.key ?? 'id',
      import: imp ? {
        mode: imp.mode ?? 'full', match: imp.match ?? [], onMatch: imp.onMatch ?? 'link', onNoMatch: imp.onNoMatch ?? 'create',
        newUserStatus: imp.newUserStatus ?? 'STAGED', disabled, onDisabled: imp.onDisabled ?? 'deactivate', onMissing: imp.onMissing ?? 'deactivate',
        reactivate: { suspended: imp.reactivate?.suspended ?? true, deactivated: imp.reactivate?.deactivated ?? false },
        mappings,
      } : null,
    };
  }
  return {
    attributes, protectRoles: config.directory.protect?.roles ?? ['super_admin'], declaredUsers: config.users ?? [],
    profileSources, links: config.links ?? [], apps: compiled,
  };
}

/** Own keys only: a config naming "constructor" or "toString" must not find Object.prototype's. */
function own<T>(record: Record<string, T>, name: string): T | undefined {
  return Object.hasOwn(record, name) ? record[name] : undefined;
}

function hint(word: string, candidates: string[]): string {
  const best = closest(word, candidates);
  return best ? `; did you mean ${JSON.stringify(best)}?` : '';
}
