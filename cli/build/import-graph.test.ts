/** The circle finder on graphs made up here, and the repository's own import graph, which must have none. */
import { describe, expect, it } from 'vitest';
import { circles, importGraph, type ImportGraph } from './import-graph.ts';
import { REPO } from './build.ts';

const graph = (edges: Record<string, string[]>): ImportGraph => new Map(Object.entries(edges));

describe('circles', () => {
  it('finds every strongly connected component and self-import, and nothing else', () => {
    const found = circles(graph({
      'a.ts': ['b.ts', 'x.ts'], 'b.ts': ['c.ts'], 'c.ts': ['a.ts'],
      'x.ts': ['y.ts'], 'y.ts': [],
      'self.ts': ['self.ts'],
      'p.ts': ['q.ts'], 'q.ts': ['p.ts', 'y.ts'],
    }));
    expect(found).toEqual([['a.ts', 'b.ts', 'c.ts'], ['p.ts', 'q.ts'], ['self.ts']]);
  });

  it('finds none in a graph without one', () => {
    expect(circles(graph({ 'a.ts': ['b.ts', 'c.ts'], 'b.ts': ['c.ts'], 'c.ts': [] }))).toEqual([]);
  });
});

describe('the repository', () => {
  it('has no import circles, type-only imports and dynamic imports included', async () => {
    const repo = await importGraph(REPO);
    // The scanner sees each kind of edge: a type-only import, a dynamic import, a re-export.
    expect(repo.get('reconciler/policies.ts')).toContain('reconciler/model.ts');
    expect(repo.get('cli/main.ts')).toContain('cli/commands/plan.ts');
    expect(repo.get('providers/index.ts')).toContain('providers/errors.ts');
    const found = circles(repo);
    expect(found.map((files) => `a circle of ${files.join(', ')}`), 'files that import each other, directly or through others').toEqual([]);
  });
});
