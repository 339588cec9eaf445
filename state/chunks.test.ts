import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readFileChunks, Utf8Chunks } from './chunks.ts';

describe('Utf8Chunks', () => {
  it('gives the UTF-8 of everything written, in chunks that never split a write, whatever the script', () => {
    const chunks = new Utf8Chunks(64);
    const pieces = Array.from({ length: 200 }, (_, i) => `${i}: Zoë Łukasiewicz 東京 🚀\n`);
    const out: Buffer[] = [];
    for (const p of pieces) {
      const full = chunks.write(p);
      if (full) out.push(Buffer.from(full));
    }
    out.push(Buffer.from(chunks.take()));
    expect(Buffer.concat(out).toString('utf8')).toBe(pieces.join(''));
    for (const chunk of out.slice(0, -1)) expect(chunk.toString('utf8').endsWith('\n')).toBe(true);
  });

  it('keeps the pieces of one writeAll in one chunk, a longer one whole', () => {
    const chunks = new Utf8Chunks(64);
    const lines = Array.from({ length: 200 }, (_, i) => ['{"t":"user","v":', JSON.stringify({ i, name: 'Zoë 東京 🚀'.repeat(i % 5) }), '}\n']);
    const out: Buffer[] = [];
    for (const pieces of lines) {
      const full = chunks.writeAll(...pieces);
      if (full) out.push(Buffer.from(full));
    }
    out.push(Buffer.from(chunks.take()));
    expect(Buffer.concat(out).toString('utf8')).toBe(lines.map((p) => p.join('')).join(''));
    for (const chunk of out) {
      const text = chunk.toString('utf8');
      expect(text.endsWith('\n')).toBe(true);
      for (const line of text.trimEnd().split('\n')) expect(() => JSON.parse(line)).not.toThrow();
    }
  });

  it('takes a piece longer than a chunk whole, and reuses the buffers handed back', () => {
    const chunks = new Utf8Chunks(16);
    expect(chunks.write('short')).toBeNull();
    const long = 'x'.repeat(100);
    const first = chunks.write(long)!;
    expect(first.toString()).toBe('short');
    expect(chunks.take().toString()).toBe(long);
    const recycled = first.buffer;
    chunks.recycle(first);
    chunks.write('a');
    const next = chunks.take();
    expect(next.toString()).toBe('a');
    expect(chunks.take().buffer).toBe(recycled); // the buffer handed back is written again
  });
});

describe('readFileChunks', () => {
  it('reads a file in chunks of the size asked, and fails as fs does for a missing file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'idplane-chunks-'));
    try {
      const file = join(dir, 'f');
      await writeFile(file, 'abcdefghij');
      const parts: string[] = [];
      for await (const chunk of readFileChunks(file, 4)) parts.push(chunk.toString());
      expect(parts).toEqual(['abcd', 'efgh', 'ij']);
      await expect(async () => { for await (const _ of readFileChunks(join(dir, 'nope'))) void _; }).rejects.toMatchObject({ code: 'ENOENT' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
