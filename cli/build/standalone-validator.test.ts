import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { MINIMAL } from '../../engine/config/test-helpers.ts';
import { validateSchema } from '../../engine/config/schema-validator.ts';
import { standaloneValidatorBody, standaloneValidatorModule } from './standalone-validator.ts';

/** The precompiled validator, evaluated the way the module the build emits evaluates it. */
function precompiled(): typeof validateSchema {
  const module: { exports: unknown } = { exports: {} };
  new Function('module', 'require', standaloneValidatorBody())(module, createRequire(import.meta.url));
  return module.exports as typeof validateSchema;
}

/** MINIMAL with each [from, to] replaced, parsed. */
function config(...edits: [string, string][]): unknown {
  let text = MINIMAL;
  for (const [from, to] of edits) {
    expect(text).toContain(from);
    text = text.replace(from, to);
  }
  return parse(text);
}

const crm = (lines: string) => ['apps:\n', `apps:\n  crm:\n${lines}`] as [string, string];

const cases: [string, unknown][] = [
  ['the minimal config', config()],
  ['a wrong const and a misspelled enum value', config(['version: 1', 'version: 2'], ['login: { type: string', 'login: { type: strin'])],
  ['a misspelled top-level key', config(['apps:\n', 'profileSorces: [hr]\napps:\n'])],
  ['missing required keys', config(['    login: { type: string, required: true }\n', ''], ['apps:\n', 'aps:\n'])],
  ['a wrong type', config(['{ path: hr.csv }', '{ path: hr.csv, trim: "yes" }'])],
  ['an unknown provider', config(crm('    provider: cvs\n    connection: { path: crm.csv }\n    key: id\n'))],
  ['an app without a provider', config(crm('    connection: { path: crm.csv }\n    key: id\n'))],
  ['a misspelled connection key of the named provider', config(['{ path: hr.csv }', '{ path: hr.csv, trm: true }'])],
  ['an invalid app name', config(['  hr:\n', '  "bad name":\n'])],
  ['many errors at once', config(['version: 1', 'version: "1"'], ['      mappings:', '      onNoMatch: creat\n      mapings:'], ['apps:\n', 'extra: 1\napps:\n'])],
];

describe('the precompiled config validator', () => {
  const standalone = precompiled();

  it.each(cases)('reports exactly what the compiled one reports: %s', (_name, value) => {
    const compiledOk = validateSchema(value);
    const compiledErrors = validateSchema.errors;
    expect(standalone(value)).toBe(compiledOk);
    expect(standalone.errors).toEqual(compiledErrors);
  });

  it('has errors in the cases meant to be invalid', () => {
    expect(cases.filter(([, value]) => !validateSchema(value)).map(([name]) => name)).toEqual(cases.slice(1).map(([name]) => name));
  });

  it('is an ES module that exports validateSchema and compiles nothing at run time', () => {
    const source = standaloneValidatorModule();
    expect(source).toMatch(/^export const validateSchema = module\.exports;$/m);
    expect(source).not.toMatch(/from 'ajv'|require\("ajv"\)|ajv\/dist\/(2020|core)/);
  });
});
