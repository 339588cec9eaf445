/**
 * Validation as data: takes the loaded config and returns the typed config plus the compiled project, or
 * every problem at once. First the JSON Schema (ajv, all errors, with "did you mean" for misspelled keys;
 * precompiled in the build, see schema-validator.ts), then the semantic checks the schema cannot express:
 * unknown apps in profileSources, mappings to undeclared attributes, CEL expressions that do not compile
 * (pointing at the column inside the expression), links and sourcing that name unknown apps, duplicate
 * declared users.
 */
import type { ErrorObject } from 'ajv/dist/2020.js';
import type { IdplaneConfig } from '../../schemas/generated/config.ts';
import type { Project } from '../../reconciler/model.ts';
import type { LoadedConfig } from './load.ts';
import { checkSemantics } from './semantics.ts';
import { closest, fromPointer, toPointer, type At, type ConfigProblem } from './problems.ts';
import { validateSchema } from './schema-validator.ts';

export type ValidateOutcome =
  | { ok: true; config: IdplaneConfig; project: Project; warnings: ConfigProblem[] }
  | { ok: false; problems: ConfigProblem[] };

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
  const warnings: ConfigProblem[] = [];
  const warn = (pointer: string, message: string) => warnings.push({ severity: 'warning', ...loaded.locate(pointer), pointer, message });
  const project = checkSemantics(config, loaded, at, warn);
  return problems.length > 0 ? { ok: false, problems: sortProblems([...problems, ...warnings]) } : { ok: true, config, project: project!, warnings: sortProblems(warnings) };
}

/**
 * Drops the noise ajv emits around the real error (the failed `if`, a oneOf's other branch). A value
 * that fits none of an anyOf's branches is one error (said with the anyOf's description), not one per
 * branch with a regex among them.
 */
function relevantErrors(errors: ErrorObject[]): ErrorObject[] {
  const seen = new Set<string>();
  const anyOf = errors.filter((e) => e.keyword === 'anyOf' && describedAnyOf(e) !== null);
  const branchOf = (e: ErrorObject) => anyOf.some((a) => a !== e && a.instancePath === e.instancePath && e.schemaPath.startsWith(`${a.schemaPath}/`));
  return errors.filter((e) => {
    if (branchOf(e)) return false;
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
    case 'discriminator': {
      const { tag, tagValue } = error.params as { tag: string; tagValue: unknown };
      const allowed = ['csv', 'ldap', 'scim', 'http', 'okta'];
      const hint = typeof tagValue === 'string' ? closest(tagValue, allowed) : null;
      return {
        pointer: `${pointer}/${tag}`, key: false,
        message: tagValue === undefined ? `${where} is missing the required key "${tag}"` : `${where}.${tag} must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}; got ${JSON.stringify(tagValue)}${hint ? `; did you mean ${JSON.stringify(hint)}?` : ''}`,
      };
    }
    case 'anyOf': {
      const described = describedAnyOf(error);
      if (described) return { pointer, key: false, message: `${where} must be ${described}; got ${JSON.stringify(valueAt(root, pointer))}` };
      return { pointer, key: false, message: `${where} ${error.message ?? 'is invalid'}` };
    }
    case 'propertyNames': {
      const name = String((error.params as { propertyName: string }).propertyName);
      return { pointer: `${pointer}/${name}`, key: true, message: `invalid name ${JSON.stringify(name)} in ${where}` };
    }
    default:
      return { pointer, key: false, message: `${where} ${error.message ?? 'is invalid'}` };
  }
}

/** What an anyOf accepts, from the first sentence of its schema's description ("a count (10) or …"), or null. */
function describedAnyOf(error: ErrorObject): string | null {
  const description = (error.parentSchema as { description?: unknown } | undefined)?.description;
  if (typeof description !== 'string' || description === '') return null;
  const first = /^[^.]*?(?:\.(?=\s|$)|$)/.exec(description)![0].replace(/\.$/, '');
  return first.charAt(0).toLowerCase() + first.slice(1);
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


