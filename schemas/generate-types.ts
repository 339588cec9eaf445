/**
 * Generates TypeScript types from the JSON Schemas in this folder with json-schema-to-typescript.
 * The output in schemas/generated/ is committed; schemas/generated-types.test.ts fails when it is stale.
 * Run `npm run gen:types` after editing a schema.
 */
import { writeFile, mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { renderAllTypes } from './render-types.ts';

const outDir = fileURLToPath(new URL('./generated/', import.meta.url));
await mkdir(outDir, { recursive: true });
for (const [file, text] of Object.entries(await renderAllTypes())) {
  await writeFile(outDir + file, text);
  console.log(`wrote schemas/generated/${file}`);
}
