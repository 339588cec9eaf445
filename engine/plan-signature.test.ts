import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zstdDecompressSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { emptyState, hrRow, HR_MAPPINGS, makeProject, plan as makePlan, snapshot } from '../reconciler/testing.ts';
import { loadPlan, openBytes, savePlan } from './plan-file.ts';
import { signingKeyOf, verifyPlanSignature } from './plan-signature.ts';
import { planSource } from './plan-stream.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'idplane-sign-'));
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

const KEY = 'a-key-of-more-than-thirty-two-characters';
const project = makeProject({ apps: { hr: { import: { mappings: HR_MAPPINGS } } } });
const plan = () => makePlan(project, emptyState(), [snapshot('hr', Array.from({ length: 3000 }, (_, i) => hrRow(String(i), `Zoë${i}`, 'Lee')))]);
const verify = async (file: string, key = KEY) => verifyPlanSignature(await openBytes(file), key, file);

describe('signed plans', () => {
  it('sign the stream before the end line; the signed plan verifies and still reads as a plan', async () => {
    const file = join(dir, 'p.plan');
    await savePlan(file, planSource(plan()), { signingKey: KEY });
    await expect(verify(file)).resolves.toBeUndefined();
    const text = zstdDecompressSync(await readFile(file)).toString('utf8');
    expect(JSON.parse(text.trim().split('\n').at(-1)!).v.signature).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
    // Uncompressed, the same bytes verify too.
    await writeFile(join(dir, 'plain.plan'), text);
    await expect(verify(join(dir, 'plain.plan'))).resolves.toBeUndefined();
    let users = 0;
    for await (const batch of (await loadPlan(file)).batches()) users += batch.filter((i) => i.t === 'user').length;
    expect(users).toBe(3000);
  });

  it('refuse one byte changed, another key, and no signature', async () => {
    const file = join(dir, 'p.plan');
    await savePlan(file, planSource(plan()), { signingKey: KEY });
    const text = zstdDecompressSync(await readFile(file)).toString('utf8');
    await writeFile(join(dir, 'edited.plan'), text.replace('Zoë1500', 'Zoë1501'));
    await expect(verify(join(dir, 'edited.plan'))).rejects.toMatchObject({ code: 'PLAN_SIGNATURE' });
    await expect(verify(file, `${KEY}!`)).rejects.toMatchObject({ code: 'PLAN_SIGNATURE' });
    await savePlan(join(dir, 'unsigned.plan'), planSource(plan()));
    await expect(verify(join(dir, 'unsigned.plan'))).rejects.toMatchObject({ code: 'PLAN_UNSIGNED' });
  });

  it('takes only keys long enough, without printing them', () => {
    expect(signingKeyOf({})).toBeUndefined();
    expect(signingKeyOf({ plan: { signingKey: KEY } })).toBe(KEY);
    expect(() => signingKeyOf({ plan: { signingKey: 'hunter2' } })).toThrow(/^plan\.signingKey is 7 characters long; use a random secret of at least 32/);
  });
});
