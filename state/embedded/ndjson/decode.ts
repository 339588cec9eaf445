/**
 * The decoder of the embedded store's former file format, .idplane/state.ndjson (idplane before SQLite),
 * kept only to migrate such a state into SQLite (migrate.ts); nothing writes this format any more. One
 * record per line, read as a stream (a single JSON document would hit V8's string limit near 1M users).
 * The first line is the header (JSON), holding the commit token of the write that made the file; the last is the end marker (JSON) with the record count, so a truncated file is detected
 * instead of read as a smaller directory, and the SHA-256 of every byte before it, so a file edited
 * outside idplane is recognised (the state is then marked `edited` and the next plan re-checks everyone).
 *
 * Format 2, the records between them, each a tag and tab-separated JSON values (JSON never holds a raw
 * tab, so splitting on tabs is safe, and the packed values of an imported record are kept as the text
 * they are, without being parsed):
 *   U <user record object>
 *   L <app> <key> <user id>
 *   C <app> <column names array>          before that app's I lines
 *   I <app> <key> <0|1 disabled> <values array>
 * Format 1 (one JSON object a line, imported records as attribute objects) is still read, and converted.
 */
import { createHash } from 'node:crypto';
import type { AppRecords, DirectoryState, ImportedRecord, StoredLink, UserRecord } from '../../../reconciler/model.ts';
import { packValues, snapshotColumns } from '../../../reconciler/records.ts';
import { StateFormatError } from '../../types.ts';

export const STATE_FORMAT_VERSION = 2;

export interface Header {
  t: 'header';
  format_version: number;
  lineage: string | null;
  serial: number;
  watermarks?: Record<string, string>;
  pipeline?: string | null;
  edited?: boolean;
  commit?: string;
}

export interface End {
  t: 'end';
  records: number;
  digest?: string;
}

/**
 * Builds the state from the file's bytes. Throws StateFormatError naming the line on any damage. The
 * state's `digest` is the SHA-256 of the bytes before the end marker as read; `edited` is set when the
 * header says so or the end marker's digest does not match it. Each line is decoded on its own, so a
 * line of plain ASCII gives one-byte strings even where a neighbour holds a name like Łukasiewicz (V8
 * keeps a whole chunk's substrings two-byte otherwise: twice the memory, slower everywhere after).
 */
export async function decodeState(chunks: AsyncIterable<Buffer>, file: string): Promise<DirectoryState> {
  return (await decodeStateFile(chunks, file)).state;
}

/** decodeState, with the commit token of the write that made the file (journal entries of that write count). */
export async function decodeStateFile(chunks: AsyncIterable<Buffer>, file: string): Promise<{ state: DirectoryState; commit: string | null }> {
  const reader = new Reader(file);
  const hash = createHash('sha256');
  let ended = false;
  let rest: Buffer | null = null;
  const lines = (bytes: Buffer, final: boolean): number => {
    let start = 0;
    let body = -1; // where the end marker starts, if these bytes hold it
    for (let nl = bytes.indexOf(10, start); nl !== -1 || (final && start < bytes.length); nl = bytes.indexOf(10, start)) {
      const stop = nl === -1 ? bytes.length : nl;
      if (reader.take(bytes.toString('utf8', start, stop)) === 'end') body = start;
      start = stop + 1;
    }
    // Everything before the end marker goes into the digest, in one update per chunk.
    if (!ended) {
      const upto = body >= 0 ? body : Math.min(start, bytes.length);
      if (upto > 0) hash.update(upto === bytes.length ? bytes : bytes.subarray(0, upto));
      ended = body >= 0;
    }
    return start;
  };
  for await (const chunk of chunks) {
    const bytes: Buffer = rest ? Buffer.concat([rest, chunk]) : chunk;
    const used = lines(bytes, false);
    // A copy: the chunk's buffer may be read into again (chunks.ts).
    rest = used < bytes.length ? Buffer.from(bytes.subarray(used)) : null;
  }
  if (rest) lines(rest, true);
  const state = reader.finish(`sha256:${hash.digest('hex')}`);
  return { state, commit: reader.commit };
}

class Reader {
  private readonly state: DirectoryState = { lineage: null, serial: 0, users: [], links: [], imported: new Map(), watermarks: {}, pipeline: null, edited: false, digest: null };
  private lineNo = 0;
  commit: string | null = null;
  private version = 0;
  private records = 0;
  private end: End | null = null;
  /** The app whose C line came last: its I lines follow. */
  private current: { name: string; records: AppRecords } | null = null;
  /** App names as read (a few, each seen a million times): one string each. */
  private readonly apps = new Map<string, string>();
  /** Format 1: imported records as attributes, packed once every record of the file is known. */
  private readonly legacy = new Map<string, Map<string, { attributes: Record<string, string>; disabled: boolean }>>();

  private readonly file: string;

  constructor(file: string) {
    this.file = file;
  }

  /** Reads one line; says 'end' for the end marker. */
  take(text: string): 'end' | undefined {
    this.lineNo += 1;
    if (this.end) throw this.damaged(`data after the end marker`);
    if (this.version === 0) return void this.header(text);
    if (text.charCodeAt(0) === 123 /* { */) return this.json(text);
    if (this.version === 1) throw this.damaged('not valid JSON; the state file is damaged');
    // Fields are found with indexOf rather than split: a million links and records, no array each.
    const tab1 = text.indexOf('\t');
    const tab2 = tab1 < 0 ? -1 : text.indexOf('\t', tab1 + 1);
    switch (text[0]) {
      case 'U': this.state.users.push(this.parse<UserRecord>(tab1 === 1 ? text.slice(2) : undefined)); break;
      case 'L': {
        const tab3 = tab2 < 0 ? -1 : text.indexOf('\t', tab2 + 1);
        if (tab1 !== 1 || tab3 < 0) throw this.damaged('not a valid link; the state file is damaged');
        this.state.links.push({ app: this.app(text.slice(2, tab2)), key: this.string(text.slice(tab2 + 1, tab3)), userId: this.string(text.slice(tab3 + 1)) } satisfies StoredLink);
        break;
      }
      case 'C': {
        if (tab1 !== 1 || tab2 < 0) throw this.damaged('not a valid column list; the state file is damaged');
        const name = this.app(text.slice(2, tab2));
        const records: AppRecords = { columns: this.parse<string[]>(text.slice(tab2 + 1)), records: new Map() };
        this.state.imported.set(name, records);
        this.current = { name, records };
        return undefined; // not a record
      }
      case 'I': {
        const tab3 = tab2 < 0 ? -1 : text.indexOf('\t', tab2 + 1);
        const tab4 = tab3 < 0 ? -1 : text.indexOf('\t', tab3 + 1);
        if (tab1 !== 1 || tab4 < 0 || tab4 !== tab3 + 2 || text.charCodeAt(tab4 + 1) !== 91 /* [ */ || this.current?.name !== this.app(text.slice(2, tab2))) {
          throw this.damaged('not a valid imported record; the state file is damaged');
        }
        this.current.records.records.set(this.string(text.slice(tab2 + 1, tab3)), { values: text.slice(tab4 + 1), disabled: text.charCodeAt(tab3 + 1) === 49 /* 1 */ } satisfies ImportedRecord);
        break;
      }
      default: throw this.damaged('unknown record type');
    }
    this.records += 1;
    return undefined;
  }

  /** The state read; `digest`: of the content before the end marker, as read. */
  finish(digest: string): DirectoryState {
    if (this.version === 0) throw new StateFormatError(`${this.file}: empty state file`);
    if (!this.end) throw new StateFormatError(`${this.file}: truncated (no end marker); the state file is damaged`);
    for (const [app, records] of this.legacy) {
      const columns = [...snapshotColumns(undefined, { accounts: [...records].map(([key, r]) => ({ key, attributes: r.attributes })) })];
      const packed = new Map<string, ImportedRecord>();
      for (const [key, r] of records) packed.set(key, { values: packValues(columns, r.attributes), disabled: r.disabled });
      this.state.imported.set(app, { columns, records: packed });
    }
    this.state.digest = digest;
    if (this.end.digest !== undefined && this.end.digest !== digest) this.state.edited = true;
    return this.state;
  }

  private header(text: string): void {
    let line: Header | null = null;
    try {
      line = JSON.parse(text) as Header;
    } catch {
      // not a header either
    }
    if (typeof line !== 'object' || line === null || line.t !== 'header') throw new StateFormatError(`${this.file}:1: missing header; not an idplane state file`);
    if (line.format_version > STATE_FORMAT_VERSION) throw new StateFormatError(`${this.file}: state format ${line.format_version} is newer than this idplane understands (${STATE_FORMAT_VERSION}); upgrade idplane`);
    this.version = line.format_version;
    this.state.lineage = line.lineage;
    this.state.serial = line.serial;
    this.state.watermarks = line.watermarks ?? {};
    this.state.pipeline = line.pipeline ?? null;
    this.state.edited = line.edited === true;
    this.commit = line.commit ?? null;
  }

  /** The end marker, or a format 1 record. */
  private json(text: string): 'end' | undefined {
    let line: { t?: unknown } & Record<string, unknown>;
    try {
      line = JSON.parse(text) as typeof line;
    } catch {
      throw this.damaged('not valid JSON; the state file is damaged');
    }
    if (typeof line !== 'object' || line === null) throw this.damaged('not a record; the state file is damaged');
    switch (line.t) {
      case 'end': {
        const end = line as unknown as End;
        if (end.records !== this.records) throw new StateFormatError(`${this.file}: end marker counts ${end.records} records but ${this.records} were read`);
        this.end = end;
        return 'end';
      }
      case 'header': throw this.damaged('a second header');
      case 'user': if (this.version === 1) { this.state.users.push(line.v as UserRecord); break; } throw this.damaged('unknown record type');
      case 'link': if (this.version === 1) { this.state.links.push(line.v as StoredLink); break; } throw this.damaged('unknown record type');
      case 'imported': {
        if (this.version !== 1) throw this.damaged('unknown record type');
        const app = String(line.app);
        let records = this.legacy.get(app);
        if (!records) this.legacy.set(app, (records = new Map()));
        records.set(String(line.key), { attributes: line.attributes as Record<string, string>, disabled: line.disabled === true });
        break;
      }
      default: throw this.damaged('unknown record type');
    }
    this.records += 1;
    return undefined;
  }

  private parse<T>(field: string | undefined): T {
    if (field === undefined) throw this.damaged('a record is missing a field; the state file is damaged');
    try {
      return JSON.parse(field) as T;
    } catch {
      throw this.damaged('not valid JSON; the state file is damaged');
    }
  }

  /** An app name field, the same string every time it appears. */
  private app(field: string): string {
    let name = this.apps.get(field);
    if (name === undefined) this.apps.set(field, (name = this.string(field)));
    return name;
  }

  /** A JSON string field; without escapes it is the text between the quotes. */
  private string(field: string | undefined): string {
    if (field !== undefined && field.length >= 2 && field.charCodeAt(0) === 34 && field.charCodeAt(field.length - 1) === 34 && field.indexOf('\\') === -1) {
      return field.slice(1, -1);
    }
    const value = this.parse<unknown>(field);
    if (typeof value !== 'string') throw this.damaged('a name or key is not a string; the state file is damaged');
    return value;
  }

  private damaged(reason: string): StateFormatError {
    return new StateFormatError(`${this.file}:${this.lineNo}: ${reason}`);
  }
}
