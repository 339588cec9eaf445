/**
 * One parsed YAML file with its positions: parses safely (duplicate keys are errors, alias expansion is
 * bounded so alias bombs are refused) and turns a path inside the document, or an offset inside a scalar's
 * value, into a line and column.
 */
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node, type Pair } from 'yaml';
import type { ConfigProblem } from './problems.ts';

/** Aliases a config may expand; a legitimate config needs a handful, an alias bomb needs millions. */
const MAX_ALIAS_COUNT = 100;

export interface YamlSource {
  /** Path as shown in messages (relative to the working directory when possible). */
  display: string;
  text: string;
  doc: Document.Parsed;
  lines: LineCounter;
}

export type ParseOutcome = { ok: true; source: YamlSource; value: unknown } | { ok: false; problems: ConfigProblem[] };

export function parseYaml(display: string, text: string): ParseOutcome {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false, strict: true });
  if (doc.errors.length > 0) {
    const problem = (e: (typeof doc.errors)[number]): ConfigProblem => {
      // prettyErrors: false leaves linePos unset; the offset is always there.
      const pos = e.linePos?.[0] ?? lines.linePos(e.pos[0]);
      let message: string;
      if (e.code === 'DUPLICATE_KEY') message = duplicateKey(text, e.pos[0], pos);
      else {
        const line = text.split('\n')[pos.line - 1] ?? '';
        const unquoted = /\{[^}]*:\s*\$\{/.test(line);
        message = `${yamlMessage(e.code, e.message)}${unquoted ? '; a value holding ${…} inside { … } must be quoted, as in url: "${env:STATE_URL}"' : ''}`;
      }
      return { severity: 'error', file: display, line: pos.line, col: pos.col, pointer: '', message };
    };
    // Repeated keys are each reported; after a syntax error only that one, since the parser's further
    // errors are its own confusion (one unquoted ${…} gave hundreds), not more mistakes of the file.
    const syntax = doc.errors.find((e) => e.code !== 'DUPLICATE_KEY');
    return { ok: false, problems: syntax ? [problem(syntax)] : doc.errors.map(problem) };
  }
  try {
    return { ok: true, source: { display, text, doc, lines }, value: doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) };
  } catch (error) {
    const message = (error as Error).message;
    const bomb = /alias/i.test(message);
    return {
      ok: false,
      problems: [{
        severity: 'error', file: display, line: 1, col: 1, pointer: '',
        message: bomb ? `refusing to expand YAML aliases: more than ${MAX_ALIAS_COUNT} expansions (a YAML alias bomb?)` : message,
      }],
    };
  }
}

/** The key a mapping entry starts with at the start of `text` (plain, "double" or 'single' quoted), if any. */
function keyAt(text: string): string | undefined {
  return /^(?:"([^"]*)"|'([^']*)'|([^:\n#"']+?))\s*:/.exec(text)?.slice(1).find((k) => k !== undefined);
}

/** A repeated key, named, with the line of its first definition in the same mapping when it can be found. */
function duplicateKey(text: string, offset: number, pos: { line: number; col: number }): string {
  const key = keyAt(text.slice(offset));
  if (key === undefined) return 'duplicate key: a key appears twice in one mapping';
  const lines = text.split('\n');
  const indent = pos.col - 1;
  // Back up through the mapping (lines indented at least as deep) to the entry with the same key.
  for (let n = pos.line - 2; n >= 0; n--) {
    const line = lines[n]!;
    const lead = line.length - line.trimStart().length;
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    if (lead < indent) break;
    if (lead === indent && keyAt(line.slice(indent)) === key) return `duplicate key ${JSON.stringify(key)}: it is defined first at line ${n + 1}; remove or merge one of them`;
  }
  return `duplicate key ${JSON.stringify(key)}: it appears twice in one mapping; remove or merge one of them`;
}

function yamlMessage(code: string, message: string): string {
  const first = message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
  return code === 'DUPLICATE_KEY' ? `duplicate key: ${first}` : `invalid YAML: ${first}`;
}

/** Position of the node at `path` (or, with `key`, of its key). Falls back to the nearest ancestor. */
export function positionOf(source: YamlSource, path: readonly (string | number)[], key = false): { line: number; col: number } {
  let node: unknown = source.doc.contents;
  let found: unknown = node;
  for (let i = 0; i < path.length; i++) {
    const segment = path[i]!;
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = (node.items as Pair[]).find((p) => isScalar(p.key) && String(p.key.value) === String(segment));
      if (!pair) break;
      node = last && key ? pair.key : pair.value;
    } else if (isSeq(node)) {
      node = node.items[Number(segment)];
    } else {
      break;
    }
    if (!node) break;
    found = node;
  }
  const range = (found as Node | null)?.range;
  return range ? source.lines.linePos(range[0]) : { line: 1, col: 1 };
}

/** Position of character `offset` of a scalar's value (for example a CEL expression's error). */
export function positionInScalar(source: YamlSource, path: readonly (string | number)[], offset: number): { line: number; col: number } {
  const node: unknown = source.doc.getIn(path as (string | number)[], true);
  if (!isScalar(node) || !node.range) return positionOf(source, path);
  const start = node.range[0];
  const raw = source.text.slice(start, node.range[1]);
  switch (node.type) {
    case 'QUOTE_DOUBLE':
    case 'QUOTE_SINGLE':
      // One line only: a line break inside a quoted scalar folds to a space, so offsets no longer line up.
      if (!raw.includes('\n')) return source.lines.linePos(start + quotedOffset(raw, node.type === 'QUOTE_DOUBLE', offset));
      break;
    case 'PLAIN':
      if (!raw.includes('\n')) return source.lines.linePos(start + offset);
      break;
    case 'BLOCK_LITERAL':
    case 'BLOCK_FOLDED': {
      // Content starts on the line after the header (| or >). Walk its lines the way the value was built:
      // each line loses the block's indentation, and each line break is one character of the value, except
      // that a folded scalar drops the break between a text line and the empty line after it.
      const folded = node.type === 'BLOCK_FOLDED';
      const starts = source.lines.lineStarts;
      const lines: { at: number; text: string }[] = [];
      for (let i = source.lines.linePos(start).line; i < starts.length && starts[i]! < node.range[1]; i++) {
        lines.push({ at: starts[i]!, text: source.text.slice(starts[i], starts[i + 1] ?? source.text.length).replace(/\r?\n$/, '') });
      }
      const indent = Math.max(0, lines.find((l) => l.text.trim() !== '')?.text.search(/\S/) ?? 0);
      let v = 0;
      let last = start;
      for (const [i, line] of lines.entries()) {
        const text = line.text.slice(indent);
        if (text !== '') {
          if (offset <= v + text.length) return source.lines.linePos(line.at + indent + offset - v);
          last = line.at + indent + text.length;
        }
        const next = lines[i + 1]?.text.slice(indent) ?? '';
        v += text.length + (folded && text !== '' && !/^\s/.test(text) && next.trim() === '' ? 0 : 1);
      }
      return source.lines.linePos(last);
    }
  }
  return positionOf(source, path);
}

/** Source offset (from the opening quote) of character `offset` of a one-line quoted scalar's value: escapes take more room than the characters they stand for. */
function quotedOffset(raw: string, double: boolean, offset: number): number {
  let i = 1;
  for (let v = 0; v < offset && i < raw.length - 1; v++) {
    if (!double) i += raw[i] === "'" ? 2 : 1; // '' stands for '
    else if (raw[i] !== '\\') i += 1;
    else i += raw[i + 1] === 'x' ? 4 : raw[i + 1] === 'u' ? 6 : raw[i + 1] === 'U' ? 10 : 2;
  }
  return i;
}
