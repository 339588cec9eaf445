/**
 * The library entry point, used the way a program that depends on idplane uses it: through the package
 * name (package.json `exports`, which resolves to the build in dist/, not to the sources). It plans and
 * applies a copy of examples/quickstart, applies a saved plan and refuses a stale one, reports failures
 * as IdplaneErrors with their codes, and runs the example of docs/library.md and type-checks it
 * against the built declarations.
 */
import { spawnSync } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import ts from 'typescript';
import { apply, ERROR_CODES, IdplaneError, plan, readPlan, type Observer, type RunWarning } from 'idplane';
import { buildDeclarations } from '../cli/build/declarations.ts';
import { REPO } from '../cli/build/build.ts';

const QUICKSTART = join(REPO, 'examples/quickstart');

let root: string;
let dir: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'idplane-library-'));
  dir = join(root, 'examples/quickstart');
  await cp(QUICKSTART, dir, { recursive: true, filter: (source) => !source.includes('.idplane') });
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** An observer that writes down what a run tells it. */
function recorder(): Observer & { phases: string[]; warnings: RunWarning[] } {
  const phases: string[] = [];
  const warnings: RunWarning[] = [];
  return {
    phases, warnings,
    phase: (label, unit) => ({ update: () => {}, finish: (count) => phases.push(`${label}: ${count} ${unit}`.trim()) }),
    notice: () => {},
    warning: (w) => warnings.push(w),
  };
}

async function thrown(promise: Promise<unknown>): Promise<IdplaneError> {
  const error = await promise.then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(IdplaneError);
  return error as IdplaneError;
}

describe("import { plan, apply } from 'idplane'", () => {
  it('plans the quickstart as plain data, and reports its phases to the observer', async () => {
    const observer = recorder();
    const planned = await plan({ dir, observer });
    expect(planned.format_version).toBeDefined();
    expect(planned.applyable).toBe(true);
    expect(planned.summary.users.create).toBe(51);
    expect(planned.users.find((u) => u.login === 'olivia.nguyen@example.com')?.after.status).toBe('DEPROVISIONED');
    expect(observer.phases).toContain('reading the state: 0 users');
    expect(observer.phases.some((p) => /^reading hr: 50 accounts$/.test(p))).toBe(true);
  });

  it('applies, then has nothing left to apply', async () => {
    const applied = await apply({ dir });
    if (applied.status !== 'applied') throw new Error(`expected applied, got ${applied.status}`);
    expect(applied.complete).toBe(true);
    expect(applied.serial).toBe(1);
    expect(applied.plan.summary.users.create).toBe(51);
    expect((await plan({ dir })).summary.changes).toBe(0);
    expect(await apply({ dir })).toMatchObject({ status: 'unchanged', serial: 1 });
  });

  it('asks confirm before carrying out a plan it made, and writes nothing when told no', async () => {
    const hr = join(dir, 'data/hr.csv');
    await writeFile(hr, (await readFile(hr, 'utf8')).replace('Staff Software Engineer', 'Principal Engineer'));
    const asked: number[] = [];
    const cancelled = await apply({ dir, confirm: async (p) => (asked.push(p.summary.users.update), false) });
    expect(cancelled.status).toBe('cancelled');
    expect(asked).toEqual([1]);
    expect((await plan({ dir })).summary.users.update).toBe(1);
  });

  it('applies a saved plan exactly; once the data moved, with the moved users as data changes; refuses it from another config (PLAN_STALE)', async () => {
    const file = join(root, 'title.plan');
    const saved = await plan({ dir, out: file });
    expect(await readPlan(file)).toMatchObject({ summary: saved.summary, state: saved.state });
    expect(await apply({ dir, planFile: file })).toMatchObject({ status: 'applied', serial: 2, complete: true, review: { moved: false, since: [] } });
    await plan({ dir, out: file });
    const hr = join(dir, 'data/hr.csv');
    await writeFile(hr, (await readFile(hr, 'utf8')).replace('Principal Engineer', 'Distinguished Engineer'));
    const moved = await apply({ dir, planFile: file });
    expect(moved).toMatchObject({ status: 'applied', serial: 3, review: { moved: true, reviewed: 0, since: [{ why: 'new', changes: 1 }] } });
    expect(moved.plan.summary.users.update).toBe(1);
    await plan({ dir, out: file });
    const config = join(dir, 'idplane.yaml');
    await writeFile(config, (await readFile(config, 'utf8')).replace('description: "Work email, used to sign in"', 'description: "Work email"'));
    const stale = await thrown(apply({ dir, planFile: file }));
    expect(stale.code).toBe('PLAN_STALE');
    expect(stale.message).toMatch(/is stale: it was made from another config/);
  });

  it('throws IdplaneErrors with a code of the union: a broken config carries its problems', async () => {
    const broken = join(root, 'broken');
    await cp(dir, broken, { recursive: true });
    await writeFile(join(broken, 'idplane.yaml'), (await readFile(join(broken, 'idplane.yaml'), 'utf8')).replace('profileSources: [hr]', 'profileSources: [workday]'));
    const invalid = await thrown(plan({ dir: broken }));
    expect(invalid.code).toBe('CONFIG_INVALID');
    expect(ERROR_CODES).toContain(invalid.code);
    expect(invalid.problems[0]).toMatchObject({ severity: 'error', line: expect.any(Number), message: expect.stringContaining('workday') });
    const missing = await thrown(readPlan(join(root, 'no-such.plan')));
    expect(missing.code).toBe('PLAN_UNREADABLE');
  });
});

describe('the example in docs/library.md', () => {
  const example = join(REPO, 'dist', `library-example-${process.pid}.ts`);

  beforeAll(async () => {
    const markdown = await readFile(join(REPO, 'docs/library.md'), 'utf8');
    const code = /```ts\n([\s\S]*?)```/.exec(markdown)?.[1];
    if (!code) throw new Error('docs/library.md has no ```ts example');
    // Inside the package, so that 'idplane' resolves to it (a package may import itself by name).
    await writeFile(example, code);
    await buildDeclarations();
  });

  afterAll(async () => {
    await rm(example, { force: true });
  });

  it('type-checks against the built declarations, strictly', () => {
    const program = ts.createProgram({
      rootNames: [example],
      options: { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, strict: true, noEmit: true, types: ['node'], allowImportingTsExtensions: true },
    });
    const resolved = program.getSourceFiles().map((f) => f.fileName).find((f) => f.endsWith('/engine/index.d.ts'));
    expect(resolved).toBe(join(REPO, 'dist/types/engine/index.d.ts'));
    const problems = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    expect(problems).toEqual([]);
  });

  it('runs: plans, saves and applies the quickstart', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'idplane-example-'));
    try {
      await cp(QUICKSTART, join(cwd, 'examples/quickstart'), { recursive: true, filter: (source) => !source.includes('.idplane') });
      const run = spawnSync(process.execPath, [example], { cwd, encoding: 'utf8' });
      expect(run.status, run.stderr).toBe(0);
      expect(run.stdout).toBe('51 to create; applyable: true\nstate serial 1; complete: true\n');
      expect(run.stderr).toMatch(/^reading the state: 0 users$/m);
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  });
});
