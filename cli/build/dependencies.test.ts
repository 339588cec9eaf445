import { readFile } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { describe, expect, it } from 'vitest';
import { buildCli } from './build.ts';

describe('package.json dependencies', () => {
  it('are exactly the packages the built CLI and server import at run time (benchmark and test libraries are devDependencies)', async () => {
    const { packages } = await buildCli();
    const manifest = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { dependencies: Record<string, string> };
    // A bare built-in (`import 'fs'`) would be a mistake of its own, never a dependency.
    expect(packages.filter((p) => builtinModules.includes(p))).toEqual([]);
    expect(Object.keys(manifest.dependencies).sort()).toEqual(packages);
  });
});
