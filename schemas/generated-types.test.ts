import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { renderAllTypes } from './render-types.ts';

describe('generated schema types', () => {
  it('are up to date with the schemas (run `npm run gen:types` if this fails)', async () => {
    for (const [file, text] of Object.entries(await renderAllTypes())) {
      const committed = await readFile(new URL(`./generated/${file}`, import.meta.url), 'utf8');
      expect(committed, `schemas/generated/${file} is stale`).toBe(text);
    }
  });
});
