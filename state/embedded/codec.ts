/**
 * The embedded store's file format: newline-delimited JSON, one record per line, so that state of any
 * size is written and read as a stream (a single JSON document would hit V8's string limit near 1M
 * users). The first line is the header; the last line is a trailer with the record count, so a truncated
 * file is detected instead of read as a smaller directory.
 */
import type { DirectoryState } from '../../reconciler/model.ts';
import { StateFormatError } from '../types.ts';

export const STATE_FORMAT_VERSION = 1;

type Line =
  | { t: 'header'; format_version: number; lineage: string | null; serial: number; watermarks?: Record<string, string>; commit?: string }
  | { t: 'user'; v: DirectoryState['users'][number] }
  | { t: 'link'; v: DirectoryState['links'][number] }
  | { t: 'imported'; app: string; key: string; attributes: Record<string, string>; disabled: boolean }
  | { t: 'end'; records: number };

/** Yields the file's lines, each ending in '\n', in chunks sized for streaming writes. */
export function* encodeState(state: DirectoryState, commit?: string): Generator<string> {
  let buffer = JSON.stringify({ t: 'header', format_version: STATE_FORMAT_VERSION, lineage: state.lineage, serial: state.serial, watermarks: state.watermarks, ...(commit ? { commit } : {}) } satisfies Line) + '\n';
  let records = 0;
  const push = function* (line: Line) {
    buffer += JSON.stringify(line) + '\n';
    records += 1;
    if (buffer.length > 1 << 20) {
      yield buffer;
      buffer = '';
    }
  };
  for (const v of state.users) yield* push({ t: 'user', v });
  for (const v of state.links) yield* push({ t: 'link', v });
  for (const [app, records] of Object.entries(state.imported)) {
    for (const [key, r] of Object.entries(records)) yield* push({ t: 'imported', app, key, attributes: r.attributes, disabled: r.disabled });
  }
  buffer += JSON.stringify({ t: 'end', records } satisfies Line) + '\n';
  yield buffer;
}

/** Builds the state from the file's chunks. Throws StateFormatError naming the line on any damage. */
export async function decodeState(chunks: AsyncIterable<string>, file: string): Promise<DirectoryState> {
  const state: DirectoryState = { lineage: null, serial: 0, users: [], links: [], imported: {}, watermarks: {} };
  let lineNo = 0;
  let header = false;
  let ended = false;
  let records = 0;
  let rest = '';
  const take = (text: string) => {
    lineNo += 1;
    if (ended) throw new StateFormatError(`${file}:${lineNo}: data after the end marker`);
    let line: Line;
    try {
      line = JSON.parse(text) as Line;
    } catch {
      throw new StateFormatError(`${file}:${lineNo}: not valid JSON; the state file is damaged`);
    }
    if (typeof line !== 'object' || line === null) throw new StateFormatError(`${file}:${lineNo}: not a record; the state file is damaged`);
    if (!header) {
      if (line.t !== 'header') throw new StateFormatError(`${file}:1: missing header; not an idplane state file`);
      if (line.format_version > STATE_FORMAT_VERSION) throw new StateFormatError(`${file}: state format ${line.format_version} is newer than this idplane understands (${STATE_FORMAT_VERSION}); upgrade idplane`);
      state.lineage = line.lineage;
      state.serial = line.serial;
      state.watermarks = line.watermarks ?? {};
      header = true;
      return;
    }
    switch (line.t) {
      case 'user': state.users.push(line.v); break;
      case 'link': state.links.push(line.v); break;
      case 'imported': {
        // Own properties only: an app named "constructor" must not find Object through the prototype,
        // and an account key "__proto__" must be stored, not replace the prototype.
        let byKey = Object.hasOwn(state.imported, line.app) ? state.imported[line.app] : undefined;
        if (!byKey) defineOwn(state.imported, line.app, (byKey = {}));
        defineOwn(byKey, line.key, { attributes: line.attributes, disabled: line.disabled });
        break;
      }
      case 'end':
        if (line.records !== records) throw new StateFormatError(`${file}: end marker counts ${line.records} records but ${records} were read`);
        ended = true;
        return;
      case 'header': throw new StateFormatError(`${file}:${lineNo}: a second header`);
      default: throw new StateFormatError(`${file}:${lineNo}: unknown record type`);
    }
    records += 1;
  };
  for await (const chunk of chunks) {
    const text = rest + chunk;
    let start = 0;
    for (let nl = text.indexOf('\n', start); nl !== -1; nl = text.indexOf('\n', start)) {
      take(text.slice(start, nl));
      start = nl + 1;
    }
    rest = text.slice(start);
  }
  if (rest.length > 0) take(rest);
  if (!header) throw new StateFormatError(`${file}: empty state file`);
  if (!ended) throw new StateFormatError(`${file}: truncated (no end marker); the state file is damaged`);
  return state;
}

function defineOwn<T>(target: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}
