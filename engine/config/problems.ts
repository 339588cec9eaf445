/**
 * Config problems as data: each names the file, line and column, the JSON pointer of the value and a
 * plain message. Only the views turn them into text.
 */
export type Severity = 'error' | 'warning';

export interface ConfigProblem {
  severity: Severity;
  file: string;
  line: number;
  col: number;
  /** JSON pointer into the merged config, '' for the document. */
  pointer: string;
  message: string;
}

/**
 * How the semantic checks report an error: at a JSON pointer (`key`: the key rather than its value), or
 * at a place of their own (a position inside an expression).
 */
export type At = (pointer: string, message: string, key?: boolean, place?: { file: string; line: number; col: number }) => void;

export function formatProblem(p: ConfigProblem): string {
  const where = p.line > 0 ? `${p.file}:${p.line}:${p.col}` : p.file;
  const path = p.pointer ? ` (${p.pointer})` : '';
  return `${where}: ${p.severity}: ${p.message}${path}`;
}

export function toPointer(segments: readonly (string | number)[]): string {
  return segments.map((s) => '/' + String(s).replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}

export function fromPointer(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** The closest candidate within a small edit distance, for "did you mean" hints. */
export function closest(word: string, candidates: Iterable<string>): string | null {
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  const limit = Math.max(1, Math.floor(word.length / 3));
  return best !== null && bestDistance <= limit ? best : null;
}

/** Optimal string alignment distance: Levenshtein plus adjacent transpositions ("cvs" → "csv" is 1). */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}
