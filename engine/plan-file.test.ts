import { mkdtemp, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync, zstdDecompressSync } from 'node:zlib';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import planSchema from '../schemas/plan.schema.json' with { type: 'json' };
import type { Plan } from '../schemas/generated/plan.ts';
import { emptyState, hrRow, HR_MAPPINGS, makeProject, plan as makePlan, snapshot } from '../reconciler/testing.ts';
import type { Sink } from '../cli/output.ts';
import { loadPlan, savePlan } from './plan-file.ts';
import { collectPlan, planSource, type PlanSource } from './plan-stream.ts';
import { renderPlanJson } from '../cli/views/plan-json.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'idplane-planfile-'));
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

const rows = Array.from({ length: 40 }, (_, i) => hrRow(String(i + 1), `Zoë${i}`, `Łukasiewicz${i}`, i % 7 === 0 ? { status: 'Terminated' } : {}));
function samplePlan(): Plan {
  const project = makeProject({ apps: { hr: { import: { mappings: HR_MAPPINGS, disabled: 'app.status == "Terminated"', newUserStatus: 'ACTIVE' } } } });
  const p = makePlan(project, emptyState(), [snapshot('hr', [...rows, { ...rows[0]!, id: '1' }])]);
  p.created_at = '2026-12-02T10:00:00.000Z';
  return p;
}

/** The plan as it is saved and shown: imported records without their values. */
function asShown(plan: Plan): Plan {
  return { ...plan, imports: plan.imports.map(({ attributes: _values, ...rest }) => rest) };
}

function memorySink(): Sink & { text: () => string } {
  let text = '';
  return { write: (s) => void (text += s), drain: async () => {}, text: () => text };
}

async function json(source: PlanSource): Promise<unknown> {
  const sink = memorySink();
  await renderPlanJson(source, sink);
  return JSON.parse(sink.text());
}

const file = () => join(dir, 'plan.idplan');

describe('saved plans', () => {
  it('write a Zstandard-compressed stream and read back exactly the plan, as one document that validates', async () => {
    const plan = samplePlan();
    expect(plan.conflicts.length).toBeGreaterThan(0); // a duplicate key: every list has items
    await savePlan(file(), planSource(plan));
    const bytes = await readFile(file());
    expect([...bytes.subarray(0, 4)]).toEqual([0x28, 0xb5, 0x2f, 0xfd]);
    const lines = zstdDecompressSync(bytes).toString('utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as { t: string });
    expect(lines[0]!.t).toBe('plan');
    expect(lines.at(-1)).toEqual({ t: 'end', v: { counts: expect.objectContaining({ user: plan.users.length, conflict: plan.conflicts.length }) } });
    expect(plan.imports.every((i) => i.action === 'forget' || i.attributes !== undefined)).toBe(true);
    expect(await collectPlan(await loadPlan(file()))).toEqual(asShown(plan));
    const document = await json(await loadPlan(file()));
    expect(document).toEqual(asShown(plan));
    const validate = new Ajv2020({ strict: true, allowUnionTypes: true }).compile(planSchema);
    expect(validate(document), JSON.stringify(validate.errors)).toBe(true);
  });

  it('read a plain (uncompressed) stream too, and one gzip-compressed (as earlier versions saved them)', async () => {
    await savePlan(file(), planSource(samplePlan()));
    const plain = zstdDecompressSync(await readFile(file()));
    await writeFile(file(), plain);
    expect(await collectPlan(await loadPlan(file()))).toEqual(asShown(samplePlan()));
    await writeFile(file(), gzipSync(plain));
    expect(await collectPlan(await loadPlan(file()))).toEqual(asShown(samplePlan()));
  });

  it('never leave a half-written file under the name (written to a temporary file, then renamed)', async () => {
    await writeFile(file(), 'the previous plan');
    const failing: PlanSource = {
      header: planSource(samplePlan()).header,
      async *batches() {
        yield [{ t: 'user', v: samplePlan().users[0]! }];
        throw new Error('disk full');
      },
    };
    await expect(savePlan(file(), failing)).rejects.toThrow(`cannot write the plan to ${file()}: disk full`);
    expect(await readFile(file(), 'utf8')).toBe('the previous plan');
  });

  it('is refused when cut short, with the reason, before anything is applied', async () => {
    await savePlan(file(), planSource(samplePlan()));
    const { size } = await stat(file());
    await truncate(file(), Math.floor(size / 2));
    // Refused as soon as the damage is read: the header line, or a later one.
    await expect(loadPlan(file()).then(collectPlan)).rejects.toMatchObject({ code: 'PLAN_TRUNCATED', message: expect.stringContaining('damaged or cut short') });
    // The same stream uncompressed and cut at a line: its end line is missing.
    await savePlan(file(), planSource(samplePlan()));
    const text = zstdDecompressSync(await readFile(file())).toString('utf8').trimEnd().split('\n');
    await writeFile(file(), gzipSync(text.slice(0, -3).join('\n') + '\n'));
    await expect(collectPlan(await loadPlan(file()))).rejects.toMatchObject({ code: 'PLAN_TRUNCATED', message: expect.stringContaining('ends before its end line') });
  });

  it('is refused when lines were removed or edited into something that is not a plan line, naming the line', async () => {
    await savePlan(file(), planSource(samplePlan()));
    const text = zstdDecompressSync(await readFile(file())).toString('utf8').trimEnd().split('\n');
    const removed = [...text];
    removed.splice(3, 1);
    await writeFile(file(), gzipSync(removed.join('\n') + '\n'));
    await expect(collectPlan(await loadPlan(file()))).rejects.toMatchObject({ code: 'PLAN_INVALID', message: expect.stringMatching(/line \d+: the end line counts \d+ user line\(s\), but \d+ came before it/) });

    const edited = [...text];
    edited[2] = edited[2]!.replace('"action":"create"', '"action":"promote"');
    await writeFile(file(), gzipSync(edited.join('\n') + '\n'));
    await expect(collectPlan(await loadPlan(file()))).rejects.toMatchObject({ message: expect.stringContaining(`${file()} is not a valid plan: line 3: /v/action must be equal to one of the allowed values`) });

    const garbage = [...text];
    garbage[4] = 'not json';
    await writeFile(file(), gzipSync(garbage.join('\n') + '\n'));
    await expect(collectPlan(await loadPlan(file()))).rejects.toMatchObject({ message: `${file()} is not a valid plan: line 5: not JSON` });
  });

  it('refuses a header that is not one, an empty file, a missing file, and a plan of another format', async () => {
    await writeFile(file(), '');
    await expect(loadPlan(file())).rejects.toMatchObject({ code: 'PLAN_INVALID', message: `${file()} is empty, not a plan` });
    await writeFile(file(), '{"t":"user","v":{}}\n');
    await expect(loadPlan(file())).rejects.toMatchObject({ code: 'PLAN_INVALID', message: `${file()} is not a valid plan: its first line is not a plan header` });
    await writeFile(file(), JSON.stringify({ t: 'plan', v: { ...planSource(samplePlan()).header, format_version: '3' } }) + '\n');
    await expect(loadPlan(file())).rejects.toMatchObject({ code: 'PLAN_VERSION', message: `${file()} has plan format "3"; this idplane reads format 2` });
    await expect(loadPlan(join(dir, 'nope'))).rejects.toMatchObject({ code: 'PLAN_UNREADABLE', message: `cannot read the plan ${join(dir, 'nope')}: no such file` });
  });

  it('keeps a plan of many users small: well under 400 bytes per created user', async () => {
    const many = Array.from({ length: 5000 }, (_, i) => hrRow(String(100000 + i), `First${i}`, `Last${i}`, { title: ['Engineer', 'Manager', 'Analyst'][i % 3]! }));
    const project = makeProject({ apps: { hr: { import: { mappings: HR_MAPPINGS, newUserStatus: 'ACTIVE' } } } });
    const p = makePlan(project, emptyState(), [snapshot('hr', many)]);
    expect(p.summary.users.create).toBe(5000);
    await savePlan(file(), planSource(p));
    expect((await stat(file())).size / 5000).toBeLessThan(400);
  });
});
