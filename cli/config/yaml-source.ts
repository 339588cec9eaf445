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
    return {
      ok: false,
      problems: doc.errors.map((e) => {
        const pos = e.linePos?.[0] ?? { line: 0, col: 0 };
        return { severity: 'error', file: display, line: pos.line, col: pos.col, pointer: '', message: yamlMessage(e.code, e.message) };
      }),
    };
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
  const value = String(node.value);
  const start = node.range[0];
  switch (node.type) {
    case 'QUOTE_DOUBLE':
    case 'QUOTE_SINGLE':
      if (!value.includes('\n')) return source.lines.linePos(start + 1 + offset);
      break;
    case 'PLAIN':
      if (!value.includes('\n')) return source.lines.linePos(start + offset);
      break;
    case 'BLOCK_LITERAL':
    case 'BLOCK_FOLDED': {
      // Content starts on the line after the header (| or >); each content line keeps its indentation.
      const before = value.slice(0, offset);
      const lineInValue = before.split('\n').length - 1;
      const colInLine = before.length - before.lastIndexOf('\n') - 1;
      const headerLine = source.lines.linePos(start).line;
      const lineStart = source.lines.lineStarts[headerLine + lineInValue] ?? start;
      const firstContent = source.text.slice(source.lines.lineStarts[headerLine] ?? start);
      const indent = firstContent.length - firstContent.trimStart().length;
      return source.lines.linePos(lineStart + indent + colInLine);
    }
  }
  return positionOf(source, path);
}
