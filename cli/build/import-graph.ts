/**
 * The repository's import graph and its circles. Every TypeScript source is read with TypeScript's own
 * scanner (`ts.preProcessFile`), which sees static imports, type-only imports, re-exports and dynamic
 * `import()` calls alike; a relative specifier that names a source file is an edge. A circle is a
 * strongly connected component of more than one file, or a file that imports itself (Tarjan's
 * algorithm). import-graph.test.ts fails when the repository has one, naming its files. Used by tests
 * only: `typescript` stays a devDependency.
 */
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

/** Folders never walked: installed packages, build output, generated benchmark data, git's own. */
const SKIPPED = new Set(['node_modules', 'dist', '.git', '.idplane', 'out']);

/** File (relative to the root, with `/`) → the source files it imports. */
export type ImportGraph = Map<string, string[]>;

/** Every `.ts` file under `root` and the source files each imports. */
export async function importGraph(root: string): Promise<ImportGraph> {
  const files = (await sources(root)).sort();
  const known = new Set(files);
  const graph: ImportGraph = new Map();
  for (const file of files) {
    const text = await readFile(join(root, file), 'utf8');
    const imported = ts.preProcessFile(text, true, true).importedFiles.map((f) => f.fileName);
    const edges = imported
      .filter((spec) => spec.startsWith('.'))
      .map((spec) => toPosix(relative(root, resolve(root, dirname(file), spec))))
      .filter((target) => known.has(target));
    graph.set(file, [...new Set(edges)]);
  }
  return graph;
}

/** The graph's circles, each as its files sorted; the circles sorted by their first file. */
export function circles(graph: ImportGraph): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, counter);
    low.set(node, counter);
    counter += 1;
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node)!, index.get(next)!));
      }
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    if (component.length > 1 || (graph.get(node) ?? []).includes(node)) found.push(component.sort());
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return found.sort((a, b) => a[0]!.localeCompare(b[0]!));
}

async function sources(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(join(root, dir), { withFileTypes: true })) {
      const path = dir ? `${dir}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        if (!SKIPPED.has(entry.name)) await walk(path);
      } else if (entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
        out.push(path);
      }
    }
  };
  await walk('');
  return out;
}

function toPosix(path: string): string {
  return path.split(sep).join('/');
}
