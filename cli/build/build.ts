/**
 * Builds the CLI and the library into dist/ with esbuild: cli/main.ts (the CLI) and engine/index.ts (the
 * library, `import … from 'idplane'`) and everything they import, bundled as ES modules and split at
 * each dynamic import, so a run loads only the chunks of the command, store and providers it uses; the
 * two entries share their chunks. Packages stay in node_modules (imported from dist/ at run time, again
 * only when used). The config schema's validator is precompiled (standalone-validator.ts). The
 * library's declarations come from TypeScript itself (declarations.ts). `npm run build` runs this file
 * (`--quiet`: without the summary line) and writes both, and so does `npm ci` (the `prepare` script);
 * test/global-setup.ts calls buildCli() before every test run. Each file is written to a temporary
 * name and renamed, chunks before the entries, so a CLI started during a build runs either the old
 * build or the new one, never half of one. Files of earlier builds are removed once they are ten
 * minutes old.
 */
import { readdir, readFile, rename, rm, stat, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, type Metafile, type Plugin } from 'esbuild';
import { buildDeclarations, TYPES } from './declarations.ts';
import { standaloneValidatorModule } from './standalone-validator.ts';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const DIST = join(REPO, 'dist');
/** What cli/bin/idplane.js imports. */
export const ENTRY = join(DIST, 'main.js');
/** What `import … from 'idplane'` loads (package.json `exports`). */
export const LIBRARY = join(DIST, 'engine.js');
const SOURCE_VALIDATOR = join(REPO, 'engine/config/schema-validator.ts');
/** Files of earlier builds are removed once they are this old: a CLI that started before may still load them. */
const KEEP_OLD_MS = 10 * 60_000;

/** Resolves schema-validator.ts to the precompiled validator instead of the module that compiles. */
function precompiledValidator(): Plugin {
  return {
    name: 'precompiled-config-validator',
    setup(b) {
      b.onResolve({ filter: /schema-validator\.ts$/ }, (args) =>
        resolve(args.resolveDir, args.path) === SOURCE_VALIDATOR ? { path: SOURCE_VALIDATOR, namespace: 'precompiled' } : undefined);
      b.onLoad({ filter: /.*/, namespace: 'precompiled' }, () => ({ contents: standaloneValidatorModule(), loader: 'js', resolveDir: dirname(SOURCE_VALIDATOR) }));
    },
  };
}

export interface BuildResult {
  /** Paths relative to the repository. */
  files: string[];
  /** The packages the build imports at run time (from node_modules), by name: what `dependencies` must hold. */
  packages: string[];
  bytes: number;
  ms: number;
}

export async function buildCli(): Promise<BuildResult> {
  const started = performance.now();
  const result = await build({
    absWorkingDir: REPO,
    // The render worker is an entry of its own: a file a Worker can start (cli/parallel-view.ts).
    entryPoints: { main: join(REPO, 'cli/main.ts'), 'render-worker': join(REPO, 'cli/render-worker.ts'), engine: join(REPO, 'engine/index.ts') },
    outdir: DIST,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node24',
    packages: 'external',
    chunkNames: 'chunks/[name]-[hash]',
    sourcemap: 'linked',
    metafile: true,
    write: false,
    logLevel: 'warning',
    plugins: [precompiledValidator()],
  });
  if (Object.hasOwn(result.metafile.inputs, relative(REPO, SOURCE_VALIDATOR))) {
    throw new Error('the build still contains engine/config/schema-validator.ts instead of the precompiled validator');
  }
  const entries = [LIBRARY, ENTRY];
  for (const path of entries) if (!result.outputFiles.some((f) => f.path === path)) throw new Error(`esbuild wrote no ${relative(REPO, path)}`);
  const rank = (path: string) => entries.indexOf(path);
  const ordered = [...result.outputFiles].sort((a, b) => rank(a.path) - rank(b.path));
  for (const file of ordered) await writeAtomically(file.path, file.contents);
  await removeOld(DIST, new Set(ordered.map((f) => f.path)), TYPES);
  return {
    files: ordered.map((f) => relative(REPO, f.path)),
    packages: importedPackages(result.metafile, ordered),
    bytes: ordered.reduce((n, f) => n + f.contents.byteLength, 0),
    ms: Math.round(performance.now() - started),
  };
}

/**
 * The package names the outputs load from node_modules (node: built-ins left out): the imports esbuild
 * left external, and the CommonJS packages loaded lazily through createRequire (cli-progress, ajv),
 * which esbuild passes through as require("NAME") calls it does not record.
 */
function importedPackages(metafile: Metafile, outputs: readonly { text: string }[]): string[] {
  const specifiers: string[] = [];
  for (const output of Object.values(metafile.outputs)) {
    for (const { path, external } of output.imports) if (external) specifiers.push(path);
  }
  for (const { text } of outputs) {
    for (const m of text.matchAll(/\b(?:require\d*|createRequire\(import\.meta\.url\))\("([^"]+)"\)/g)) specifiers.push(m[1]!);
  }
  const names = new Set<string>();
  for (const path of specifiers) {
    if (path.startsWith('node:') || path.startsWith('.') || path.startsWith('/')) continue;
    const parts = path.split('/');
    names.add(path.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!);
  }
  return [...names].sort();
}

async function writeAtomically(path: string, contents: Uint8Array): Promise<void> {
  const existing = await readFile(path).catch(() => null);
  if (existing && Buffer.compare(existing, contents) === 0) return;
  await mkdir(dirname(path), { recursive: true });
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, contents);
  await rename(temp, path);
}

/** Removes files of earlier builds (and leftover temporary files) older than KEEP_OLD_MS; `spared`: a folder left alone. */
async function removeOld(dir: string, keep: Set<string>, spared: string): Promise<void> {
  const now = Date.now();
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    if (keep.has(path) || path.startsWith(spared + sep)) continue;
    const { mtimeMs } = await stat(path).catch(() => ({ mtimeMs: now }));
    if (now - mtimeMs > KEEP_OLD_MS) await rm(path, { force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  try {
    const r = await buildCli();
    // `npm run idplane` (--quiet) runs the CLI, which needs no declarations.
    const declarations = process.argv.includes('--quiet') ? null : await buildDeclarations();
    if (declarations) console.error(`built ${relative(REPO, DIST)}/: ${r.files.length} files, ${Math.round(r.bytes / 1024)} KiB, in ${r.ms} ms; ${declarations.files} declaration files in ${declarations.ms} ms`);
  } catch (error) {
    // esbuild has already printed its errors with file:line:col.
    if (!(error instanceof Error && 'errors' in error)) console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  }
}
