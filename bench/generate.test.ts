import { Writable } from 'node:stream';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { HR_CSV_HEADER, generateHrCsv } from './generate.ts';

/** Collects everything written; optionally acks slowly with a tiny buffer to force backpressure. */
function collector(slow = false): { out: Writable; bytes: () => Buffer } {
  const chunks: Buffer[] = [];
  const out = new Writable({
    highWaterMark: slow ? 16 : 16 * 1024,
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk);
      if (slow) setImmediate(cb);
      else cb();
    },
  });
  return { out, bytes: () => Buffer.concat(chunks) };
}

async function generate(users: number, seed?: number, slow = false): Promise<Buffer> {
  const { out, bytes } = collector(slow);
  await generateHrCsv(seed === undefined ? { users, out } : { users, seed, out });
  return bytes();
}

describe('generateHrCsv', () => {
  it('is deterministic: same seed and N give the same bytes', async () => {
    const a = await generate(200, 7);
    const b = await generate(200, 7);
    expect(a.length).toBeGreaterThan(0);
    expect(a.equals(b)).toBe(true);
    const c = await generate(200, 8);
    expect(a.equals(c)).toBe(false);
  });

  it('writes the expected header and N rows of 11 columns', async () => {
    const text = (await generate(200, 1)).toString('utf8');
    expect(text.charCodeAt(0)).not.toBe(0xfeff);
    expect(text.split('\n')[0]).toBe(HR_CSV_HEADER);
    expect(text.endsWith('\n')).toBe(true);
    expect(text.includes('\r')).toBe(false);
    const records: string[][] = parse(text);
    expect(records).toHaveLength(201);
    for (const record of records) expect(record).toHaveLength(11);
  });

  it('produces unique employee ids and emails with valid manager references', async () => {
    const rows: Record<string, string>[] = parse((await generate(5000, 3)).toString('utf8'), { columns: true });
    expect(rows).toHaveLength(5000);
    const ids = new Set(rows.map((r) => r.employee_id));
    const emails = new Set(rows.map((r) => r.work_email));
    expect(ids.size).toBe(rows.length);
    expect(emails.size).toBe(rows.length);
    expect(rows[0]?.employee_id).toBe('000001');
    expect(rows[0]?.manager_id).toBe('');
    for (const r of rows) {
      expect(r.employee_id).toMatch(/^\d{6}$/);
      expect(r.work_email).toMatch(/^[a-z0-9.-]+@example\.com$/);
      expect(r.start_date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      if (r !== rows[0]) expect(ids.has(r.manager_id as string)).toBe(true);
    }
    const share = (pred: (r: Record<string, string>) => boolean) => rows.filter(pred).length / rows.length;
    expect(share((r) => r.status === 'Terminated')).toBeGreaterThan(0.01);
    expect(share((r) => r.status === 'Terminated')).toBeLessThan(0.03);
    expect(share((r) => r.employment_type === 'Contractor')).toBeGreaterThan(0.02);
    expect(share((r) => r.employment_type === 'Contractor')).toBeLessThan(0.04);
    expect(share((r) => r.phone === '')).toBeGreaterThan(0.04);
    expect(share((r) => r.phone === '')).toBeLessThan(0.06);
    expect(rows.some((r) => r.title?.includes(','))).toBe(true);
    expect(rows.some((r) => /[^ -~]/.test(`${r.first_name}${r.last_name}`))).toBe(true);
  });

  it('respects backpressure and yields the same bytes through a slow stream', async () => {
    const fast = await generate(3000, 11);
    const slow = await generate(3000, 11, true);
    expect(slow.equals(fast)).toBe(true);
  });

  it('smaller N is a prefix of larger N for the same seed', async () => {
    const small = (await generate(200, 5)).toString('utf8');
    const large = (await generate(1000, 5)).toString('utf8');
    expect(large.startsWith(small)).toBe(true);
  });

  it('rejects invalid user counts', async () => {
    const { out } = collector();
    await expect(generateHrCsv({ users: 0, out })).rejects.toThrow(/positive integer/);
  });
});
