/**
 * Renders the TypeScript types for each schema in this folder. Shared by the generator script and the
 * staleness test so both produce byte-identical output.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { compile } from 'json-schema-to-typescript';

export const SCHEMAS = { 'config.ts': 'config.schema.json', 'plan.ts': 'plan.schema.json', 'plan-delta.ts': 'plan-delta.schema.json' } as const;

export async function renderAllTypes(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [target, schemaFile] of Object.entries(SCHEMAS)) {
    const schema = JSON.parse(await readFile(new URL(`./${schemaFile}`, import.meta.url), 'utf8'));
    out[target] = await compile(schema, schema.title, {
      bannerComment: `/* Generated from schemas/${schemaFile} by json-schema-to-typescript. Do not edit: run \`npm run gen:types\`. */`,
      additionalProperties: false,
      cwd: fileURLToPath(new URL('.', import.meta.url)), // plan-stream.schema.json refers to plan.schema.json
      unreachableDefinitions: false,
      style: { singleQuote: true },
    });
  }
  return out;
}
