/**
 * Bytes in and out in reused buffers, for the files of any size the stores and the CSV provider stream.
 *
 * Utf8Chunks: text of any size turned into UTF-8 chunks of about `size` bytes as it is written: each piece is
 * encoded straight into the current buffer. Collecting the pieces in a string first (`s += piece`)
 * builds a rope of every piece that V8 must keep, then flatten, then encode: for a plan of 100k users
 * that was three times the cost of the rendering itself.
 *
 * Buffers are reused: a consumer hands a chunk back with `recycle` once it is done with it (the write
 * callback of a stream). A fresh buffer is external memory to V8, and V8 pays for external memory with
 * marking work on the heap: with the 800 MB heap of a million-user plan, every fresh megabyte cost
 * about 8 ms of marking (8.4 s of a 33 s plan write went into allocating buffers). With reuse a run
 * allocates only as many buffers as its consumers hold at once.
 * Used by everything that writes long output (the state file, the journal, saved plans, stdout).
 *
 * readFileChunks: a file's bytes in chunks read into one buffer, for the same reason.
 */
import { open } from 'node:fs/promises';
export class Utf8Chunks {
  private buffer: Buffer;
  private used = 0;
  private readonly free: Buffer[] = [];

  /** `shared`: buffers over SharedArrayBuffers, which a worker thread can read without a copy. */
  private readonly size: number;
  private readonly shared: boolean;

  constructor(size = 1 << 18, shared = false) {
    this.size = size;
    this.shared = shared;
    this.buffer = this.fresh(size);
  }

  private fresh(size: number): Buffer {
    return this.shared ? Buffer.from(new SharedArrayBuffer(size)) : Buffer.allocUnsafe(size);
  }

  /** Bytes written and not taken yet. */
  get pending(): number {
    return this.used;
  }

  /** Adds `text`; returns a full chunk when the buffer had to make room, else null. */
  write(text: string): Buffer | null {
    // A UTF-16 code unit takes at most 3 bytes in UTF-8 (a surrogate pair, 2 units, takes 4).
    if (this.used + text.length * 3 <= this.buffer.length) {
      this.used += this.buffer.write(text, this.used);
      return null;
    }
    const full = this.used > 0 ? this.take() : null;
    if (text.length * 3 > this.buffer.length) this.buffer = this.fresh(text.length * 3);
    this.used = this.buffer.write(text, 0);
    return full;
  }

  /**
   * Adds the pieces of one line (or record) together: they land in one chunk, never split between two
   * (a reader of chunks that expects whole lines, like the plan's render worker, gets them whole), and
   * without being joined into one string first. Returns a full chunk when it had to make room, else null.
   */
  writeAll(...pieces: string[]): Buffer | null {
    let length = 0;
    for (const piece of pieces) length += piece.length;
    let full: Buffer | null = null;
    if (this.used + length * 3 > this.buffer.length) {
      if (this.used > 0) full = this.take();
      if (length * 3 > this.buffer.length) this.buffer = this.fresh(length * 3);
    }
    for (const piece of pieces) this.used += this.buffer.write(piece, this.used);
    return full;
  }

  /** The bytes written so far (possibly empty); later writes go to another buffer. */
  take(): Buffer {
    const chunk = this.buffer.subarray(0, this.used);
    this.buffer = this.free.pop() ?? this.fresh(this.size);
    this.used = 0;
    return chunk;
  }

  /** A chunk this object gave out, no longer used by anyone: its buffer is written again. */
  recycle(chunk: Buffer): void {
    if (chunk.buffer.byteLength === this.size && chunk.byteOffset === 0 && this.free.length < 64) this.free.push(Buffer.from(chunk.buffer, 0, this.size));
  }
}

/**
 * The file's bytes, `size` at a time, read into one buffer: each chunk is valid until the next one is
 * asked for (copy what must be kept). Fails as fs does (ENOENT, EISDIR, EACCES) on the first read.
 */
export async function* readFileChunks(path: string, size = 1 << 20): AsyncGenerator<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.allocUnsafe(size);
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, size, null);
      if (bytesRead === 0) return;
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}
