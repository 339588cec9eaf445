/**
 * Saved plans (`plan --out FILE`, read by `show` and `apply`): the plan stream of
 * schemas/plan-stream.schema.json, compressed with Zstandard (zlib's zstd, level 1: a million-user plan
 * compresses about as well as with gzip in under half its time, on the thread pool while the next lines
 * are made). Written as a stream to a temporary file that is renamed into place, so a crash never leaves
 * half a plan under the name; read as a stream, every line checked against the schema, the end line's
 * counts against what was read (a truncated file is refused, never applied in part). Plans saved by
 * earlier versions (gzip) and plain streams are read too, told apart by their first bytes. Errors name
 * the file, the line and the reason, and carry a stable code.
 */
import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { constants, createGunzip, createZstdCompress, createZstdDecompress, type ZstdOptions } from 'node:zlib';
import { createRequire } from 'node:module';
import type { Ajv2020 as Ajv, ValidateFunction } from 'ajv/dist/2020.js';
import planSchema from '../schemas/plan.schema.json' with { type: 'json' };
import streamSchema from '../schemas/plan-stream.schema.json' with { type: 'json' };
import { PLAN_FORMAT_VERSION } from '../reconciler/plan.ts';
import { IdplaneError } from './errors.ts';
import { LISTS, type ItemKind, type PlanHeader, type PlanItem, type PlanSource } from './plan-stream.ts';
import type { ProgressTask } from './progress.ts';
import { Utf8Chunks } from '../state/chunks.ts';
import { PlanSigner } from './plan-signature.ts';

/** Zstandard level 1: a plan compresses about 12× even so (gzip's level 1: 9×, in more than twice the time). */
const ZSTD_LEVEL = 1;
const CHUNK = 1 << 20;

/**
 * Also given every chunk of the uncompressed stream, over a SharedArrayBuffer (a worker thread can read
 * it in place); `release` must be called once it is read.
 */
export type PlanTap = (chunk: Buffer, release: () => void) => void;

export interface SaveOptions {
  /** Counts the lines. */
  progress?: ProgressTask;
  /** Gets the uncompressed stream too. */
  tap?: PlanTap;
  /** plan.signingKey: the end line then carries the plan's signature (plan-signature.ts). */
  signingKey?: string;
}

/** How each item line starts on disk. */
const LINE_START = Object.fromEntries(LISTS.map(([, t]) => [t, `{"t":"${t}","v":`])) as Record<ItemKind, string>;

/** How an item line ends: `}`, or the digest of its user's inputs (`,"i":"…"}`, plan-stream.ts) and `}`. */
const lineEnd = (inputs: string): string => `,"i":"${inputs}"}\n`; // base64url: nothing to escape
const DIGEST_END = /^,"i":"([A-Za-z0-9_-]{16})"\}$/;

/**
 * Whether `text` is the item line of kind `t` whose value is the JSON text `json` (compared in place,
 * nothing built): false when it is not, else the digest of its user's inputs the line carries, or null.
 */
export function isItemLine(text: string, t: ItemKind, json: string): string | null | false {
  const start = LINE_START[t];
  if (!text.startsWith(start) || !text.startsWith(json, start.length)) return false;
  const rest = text.length - start.length - json.length;
  if (rest === 1) return text.charCodeAt(text.length - 1) === 125 /* } */ ? null : false;
  return DIGEST_END.exec(text.slice(start.length + json.length))?.[1] ?? false;
}

/** Writes the plan stream to `file` (Zstandard), atomically; returns its size in bytes. */
export async function savePlan(file: string, source: PlanSource, options: SaveOptions = {}): Promise<number> {
  const { progress, tap } = options;
  const signer = options.signingKey === undefined ? null : new PlanSigner(options.signingKey);
  const temp = `${file}.${process.pid}.${randomUUID()}.tmp`;
  // Room for 8 MiB waiting to be compressed (zlib works on the thread pool while the next lines are
  // made), and output in 1 MiB pieces rather than zlib's default 16 KiB: fewer fresh buffers.
  const compress = createZstdCompress({ params: { [constants.ZSTD_c_compressionLevel]: ZSTD_LEVEL }, chunkSize: CHUNK, writableHighWaterMark: 8 * CHUNK } as ZstdOptions); // zlib passes stream options on
  const out = createWriteStream(temp);
  compress.pipe(out);
  const closed = finished(out);
  closed.catch(() => {}); // awaited below; a failure before then must not be unhandled
  try {
    const chunks = new Utf8Chunks(CHUNK, tap !== undefined);
    let full = false;
    const send = (chunk: Buffer, end = false) => {
      // Reused once zlib and the tap are both done with it.
      let holders = tap ? 2 : 1;
      const release = () => {
        if (--holders === 0) chunks.recycle(chunk);
      };
      tap?.(chunk, release);
      if (end) compress.end(chunk, release);
      else if (!compress.write(chunk, release)) full = true;
    };
    const write = (text: string) => {
      signer?.update(text);
      const chunk = chunks.write(text);
      if (chunk) send(chunk);
    };
    /** One line in pieces, kept in one chunk (the render worker reads whole lines from each). */
    const writeLine = (start: string, json: string, end: string) => {
      signer?.update(start);
      signer?.update(json);
      signer?.update(end);
      const chunk = chunks.writeAll(start, json, end);
      if (chunk) send(chunk);
    };
    write(`{"t":"plan","v":${JSON.stringify(source.header)}}\n`);
    const counts = Object.fromEntries(LISTS.map(([, t]) => [t, 0])) as Record<ItemKind, number>;
    let lines = 0;
    for await (const batch of source.batches()) {
      for (const item of batch) {
        // In pieces: one line as one template would be a rope that encoding must first copy flat.
        writeLine(LINE_START[item.t], JSON.stringify(item.v), 'i' in item && item.i !== undefined ? lineEnd(item.i) : '}\n');
        counts[item.t] += 1;
      }
      if (full) {
        await once(compress, 'drain');
        full = false;
      }
      progress?.update(lines += batch.length);
    }
    const end = signer ? { counts, signature: signer.signature() } : { counts };
    const last = chunks.write(`{"t":"end","v":${JSON.stringify(end)}}\n`);
    if (last) send(last);
    send(chunks.take(), true);
    await closed;
    await fsync(temp);
    await rename(temp, file);
    progress?.finish(lines);
    return out.bytesWritten;
  } catch (error) {
    compress.destroy();
    out.destroy();
    await rm(temp, { force: true });
    throw new IdplaneError('PLAN_UNWRITABLE', `cannot write the plan to ${file}: ${(error as Error).message}`);
  }
}

/** Opens a saved plan: its header now, its items as the caller iterates (each line checked against the schema). */
export async function loadPlan(file: string): Promise<PlanSource> {
  const raw = await loadRawPlan(file);
  let used = false;
  return {
    header: raw.header,
    async *batches() {
      if (used) throw new Error('a plan source can be read once');
      used = true;
      for await (const batch of raw.lines()) yield batch.map((line) => parsePlanLine(line.text, file, line.lineNo));
    },
  };
}

/**
 * A saved plan's item lines as they are on disk, unparsed, for apply's verification: it compares each
 * with the line the recomputed plan would write (plan-verify.ts), which a byte-equal line needs no
 * parsing or schema check for. The end line's counts are checked as for loadPlan.
 */
export interface RawPlan {
  header: PlanHeader;
  /** Batches of item lines (header and end line excluded), each with its kind and line number. */
  lines(): AsyncIterable<{ t: ItemKind; text: string; lineNo: number }[]>;
}

const KINDS = new Set<string>(LISTS.map(([, t]) => t));

export async function loadRawPlan(file: string): Promise<RawPlan> {
  const batches = lineBatches(await openBytes(file), file);
  const first = await batches.next();
  const headerText = first.done ? undefined : first.value[0];
  if (headerText === undefined) throw new IdplaneError('PLAN_INVALID', `${file} is empty, not a plan`);
  const header = parseHeader(headerText, file);
  const rest: string[] = first.done ? [] : first.value.slice(1);
  return {
    header,
    async *lines() {
      const counts = Object.fromEntries(LISTS.map(([, t]) => [t, 0])) as Record<ItemKind, number>;
      let lineNo = 1;
      let ended = false;
      for (let batch: string[] | null = rest; batch !== null; ) {
        const out: { t: ItemKind; text: string; lineNo: number }[] = [];
        for (const text of batch) {
          lineNo += 1;
          if (ended) throw invalid(file, lineNo, 'a line after the end line');
          let t = /^\{"t":"([a-z]+)",/.exec(text)?.[1];
          // Written otherwise (by hand, say): parsed, which names what is wrong with it.
          if (t === undefined || (t !== 'end' && !KINDS.has(t))) t = parseLine(text, file, lineNo).t;
          if (t === 'end') {
            const line = parseLine(text, file, lineNo);
            const expected = (line.v as { counts: Record<ItemKind, number> }).counts;
            const differs = LISTS.find(([, k]) => expected[k] !== counts[k]);
            if (differs) throw invalid(file, lineNo, `the end line counts ${expected[differs[1]]} ${differs[1]} line(s), but ${counts[differs[1]]} came before it; the file is damaged`);
            ended = true;
            continue;
          }
          counts[t as ItemKind] += 1;
          out.push({ t: t as ItemKind, text, lineNo });
        }
        if (out.length > 0) yield out;
        const next = await batches.next();
        batch = next.done ? null : next.value;
      }
      if (!ended) throw new IdplaneError('PLAN_TRUNCATED', `${file} ends before its end line: the plan is incomplete (cut short while it was written or copied); make it again with idplane plan --out`);
    },
  };
}

/** One item line of a saved plan, parsed and checked against the schema. */
export function parsePlanLine(text: string, file: string, lineNo: number): PlanItem {
  const line = parseLine(text, file, lineNo);
  if (line.t === 'end') throw invalid(file, lineNo, 'an end line among the items');
  return line as PlanItem;
}

// ---- reading -----------------------------------------------------------------------------------------

/** The plan's bytes, uncompressed. */
export async function openBytes(file: string): Promise<Readable> {
  let magic: Buffer;
  try {
    const handle = await open(file, 'r');
    try {
      magic = Buffer.alloc(4);
      await handle.read(magic, 0, 4, 0);
    } finally {
      await handle.close();
    }
  } catch (error) {
    throw new IdplaneError('PLAN_UNREADABLE', `cannot read the plan ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
  const raw = createReadStream(file, { highWaterMark: CHUNK });
  // Zstandard's frame magic (28 b5 2f fd), gzip's (1f 8b), or else a plain stream.
  const inflate = magic.readUInt32LE(0) === 0xfd2fb528 ? createZstdDecompress({ chunkSize: CHUNK }) : magic[0] === 0x1f && magic[1] === 0x8b ? createGunzip({ chunkSize: CHUNK }) : null;
  if (!inflate) return raw;
  raw.on('error', (error) => inflate.destroy(error));
  return raw.pipe(inflate);
}

/**
 * The lines, a chunk's worth at a time, each decoded from UTF-8 on its own: an ASCII line then gives
 * one-byte strings, however many names in other scripts its chunk holds.
 */
async function* lineBatches(input: Readable, file: string): AsyncGenerator<string[]> {
  let rest: Buffer | null = null;
  try {
    for await (const chunk of input as AsyncIterable<Buffer>) {
      const bytes: Buffer = rest ? Buffer.concat([rest, chunk]) : chunk;
      const lines: string[] = [];
      let start = 0;
      for (let nl = bytes.indexOf(10); nl !== -1; nl = bytes.indexOf(10, start)) {
        lines.push(bytes.toString('utf8', start, nl));
        start = nl + 1;
      }
      rest = start < bytes.length ? bytes.subarray(start) : null;
      if (lines.length > 0) yield lines;
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const what = code === 'Z_BUF_ERROR' || code === 'Z_DATA_ERROR' ? 'the compressed data is damaged or cut short' : (error as Error).message;
    throw new IdplaneError(code === 'Z_BUF_ERROR' || code === 'Z_DATA_ERROR' ? 'PLAN_TRUNCATED' : 'PLAN_UNREADABLE', `cannot read the plan ${file}: ${what}`);
  }
  if (rest) yield [rest.toString('utf8')];
}

function parseHeader(text: string, file: string): PlanHeader {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new IdplaneError('PLAN_INVALID', `${file} is not a plan: its first line is not JSON`);
  }
  const line = value as { t?: unknown; v?: { format_version?: unknown }; format_version?: unknown } | null;
  if (line?.t !== 'plan') {
    if (line && typeof line === 'object' && 'format_version' in line && line.format_version !== PLAN_FORMAT_VERSION) {
      throw new IdplaneError('PLAN_VERSION', `${file} has plan format ${JSON.stringify(line.format_version)}, from an older idplane; this idplane reads format ${PLAN_FORMAT_VERSION}. Run idplane plan again`);
    }
    throw new IdplaneError('PLAN_INVALID', `${file} is not a valid plan: its first line is not a plan header`);
  }
  const version = line.v?.format_version;
  if (version !== PLAN_FORMAT_VERSION) {
    throw new IdplaneError('PLAN_VERSION', `${file} has plan format ${JSON.stringify(version)}; this idplane reads format ${PLAN_FORMAT_VERSION}`);
  }
  check(validators().plan, value, file, 1);
  return (value as { v: PlanHeader }).v;
}

function parseLine(text: string, file: string, lineNo: number): { t: ItemKind | 'end'; v: unknown } {
  let value: { t?: unknown; v?: unknown };
  try {
    value = JSON.parse(text) as typeof value;
  } catch {
    throw invalid(file, lineNo, 'not JSON');
  }
  const validate = typeof value?.t === 'string' && Object.hasOwn(validators().items, value.t) ? validators().items[value.t as ItemKind | 'end'] : null;
  if (!validate) throw invalid(file, lineNo, `not a plan line (t: ${JSON.stringify(value?.t)})`);
  check(validate, value, file, lineNo);
  return value as { t: ItemKind | 'end'; v: unknown };
}

function check(validate: ValidateFunction, value: unknown, file: string, lineNo: number): void {
  if (validate(value)) return;
  const e = validate.errors?.[0];
  throw invalid(file, lineNo, `${e?.instancePath || '/'} ${e?.message ?? 'is invalid'}`.trim());
}

function invalid(file: string, lineNo: number, reason: string): IdplaneError {
  return new IdplaneError('PLAN_INVALID', `${file} is not a valid plan: line ${lineNo}: ${reason}`);
}

let compiled: { plan: ValidateFunction; items: Record<ItemKind | 'end', ValidateFunction> } | null = null;

/** The line validators, compiled on first use: only show and apply read plans, so `plan` never loads ajv. */
function validators(): NonNullable<typeof compiled> {
  if (compiled) return compiled;
  const { Ajv2020 } = createRequire(import.meta.url)('ajv/dist/2020.js') as { Ajv2020: typeof Ajv };
  const ajv = new Ajv2020({ allErrors: false, strict: true, allowUnionTypes: true });
  ajv.addSchema(planSchema);
  ajv.addSchema(streamSchema);
  const line = (name: string) => ajv.getSchema(`${streamSchema.$id}#/$defs/${name}`)!;
  const items = Object.fromEntries([...LISTS.map(([, t]) => [t, line(`${t}Line`)]), ['end', line('endLine')]]) as Record<ItemKind | 'end', ValidateFunction>;
  compiled = { plan: line('headerLine'), items };
  return compiled;
}

async function fsync(file: string): Promise<void> {
  const handle = await open(file, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
