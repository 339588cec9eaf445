/**
 * The library's type declarations: TypeScript itself emits the .d.ts files of engine/index.ts and of
 * everything its types name into dist/types/ (package.json `exports` points `types` there), with the
 * repository's own compiler options, so a program that imports 'idplane' is checked against the same
 * types the engine is. The declarations keep the sources' `.ts` import specifiers, which TypeScript
 * resolves to the .d.ts beside them. They are written to a fresh folder that then replaces the old one.
 * `npm run build` (build.ts) calls this; the CLI needs no declarations, so test/global-setup.ts does
 * not, and test/library.test.ts builds them before checking the docs' example against them.
 * TypeScript is loaded only here: it is a devDependency.
 */
import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
/** Where the declarations go. */
export const TYPES = join(REPO, 'dist', 'types');
/** The library's entry, whose declarations are `exports['.'].types`. */
export const LIBRARY_SOURCE = join(REPO, 'engine/index.ts');

export async function buildDeclarations(): Promise<{ files: number; ms: number }> {
  const started = performance.now();
  const { default: ts } = await import('typescript');
  const configFile = ts.readConfigFile(join(REPO, 'tsconfig.json'), (path) => ts.sys.readFile(path));
  if (configFile.error) throw new Error(ts.flattenDiagnosticMessageText(configFile.error.messageText, '\n'));
  const parsed = ts.parseJsonConfigFileContent(configFile.config, ts.sys, REPO);
  const temp = `${TYPES}.${process.pid}.tmp`;
  const options = { ...parsed.options, noEmit: false, declaration: true, emitDeclarationOnly: true, outDir: temp, rootDir: REPO };
  const program = ts.createProgram({ rootNames: [LIBRARY_SOURCE], options });
  let files = 0;
  const result = program.emit(undefined, (path, text) => {
    ts.sys.writeFile(path, text);
    files += 1;
  }, undefined, true);
  const problems = [...ts.getPreEmitDiagnostics(program), ...result.diagnostics];
  // emitSkipped is set whatever happens: the JSON modules the sources import have no declarations.
  const entry = join(temp, 'engine', 'index.d.ts');
  if (problems.length > 0 || !ts.sys.fileExists(entry)) {
    await rm(temp, { recursive: true, force: true });
    const host = { getCanonicalFileName: (f: string) => f, getCurrentDirectory: () => REPO, getNewLine: () => '\n' };
    throw new Error(`the library's declarations were not emitted:\n${ts.formatDiagnostics(problems, host)}`);
  }
  await rm(TYPES, { recursive: true, force: true });
  await rename(temp, TYPES);
  return { files, ms: Math.round(performance.now() - started) };
}
