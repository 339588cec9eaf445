/**
 * Checks the config against the columns an import source really has, where the provider can tell
 * them cheaply (a CSV file's header row): every `app.X` an import's mappings, `disabled` expression
 * and match rules name, and its watermark column. A column the source lacks is an error at the
 * reference itself (file:line:col inside the expression), with a "did you mean" hint: without the
 * check, `title: app.titel` validates and then fills the plan with one conflict per user. A reference
 * that is only tested (`has(app.x)`, `app.?x`) is a warning: the fallback always applies. Pure: the
 * columns are read by the caller.
 */
import type { IdplaneConfig } from '../../schemas/generated/config.ts';
import { compileExpression, type FieldReference } from '../../reconciler/expressions.ts';
import type { LoadedConfig } from './load.ts';
import { closest, toPointer, type ConfigProblem } from './problems.ts';

export interface SourceColumns {
  app: string;
  columns: readonly string[];
  /** Where they come from, for messages: "data/hr.csv". */
  from: string;
}

type Locate = Pick<LoadedConfig, 'locate' | 'locateInScalar'>;

export function checkColumns(config: IdplaneConfig, source: SourceColumns, loaded: Locate): ConfigProblem[] {
  const imp = config.apps[source.app]?.import;
  if (!imp) return [];
  const known = new Set(source.columns);
  const problems: ConfigProblem[] = [];
  const report = (pointer: string, place: { file: string; line: number; col: number }, name: string, guarded: boolean) => {
    if (known.has(name)) return;
    const hint = closest(name, source.columns);
    const message = guarded
      ? `${source.app} has no column ${JSON.stringify(name)} (${source.from}); this test of it is always false${hint ? `; did you mean ${JSON.stringify(hint)}?` : ''}`
      : `${source.app} has no column ${JSON.stringify(name)} (${source.from} has: ${source.columns.join(', ')})${hint ? `; did you mean ${JSON.stringify(hint)}?` : ''}`;
    problems.push({ severity: guarded ? 'warning' : 'error', ...place, pointer, message });
  };
  const expression = (segments: (string | number)[], text: string) => {
    const outcome = compileExpression(text);
    if (!outcome.ok) return; // reported by the semantic checks
    const pointer = toPointer(segments);
    for (const ref of outcome.expression.appFields) report(pointer, loaded.locateInScalar(pointer, nameOffset(text, ref)), ref.name, ref.guarded);
  };
  const column = (segments: (string | number)[], name: string) => {
    const pointer = toPointer(segments);
    report(pointer, loaded.locate(pointer), name, false);
  };

  const base = ['apps', source.app, 'import'];
  for (const [attribute, text] of Object.entries(imp.mappings ?? {})) expression([...base, 'mappings', attribute], text);
  if (imp.disabled) expression([...base, 'disabled'], imp.disabled);
  (imp.match ?? []).forEach((rule, i) => {
    if (rule.app !== undefined) column([...base, 'match', i, 'app'], rule.app);
    rule.all?.forEach((pair, j) => column([...base, 'match', i, 'all', j, 'app'], pair.app));
    if (rule.expression) expression([...base, 'match', i, 'expression', 'app'], rule.expression.app);
  });
  if (imp.watermark) column([...base, 'watermark'], imp.watermark);
  return problems;
}

/** Where the field's name starts in the reference (`app.titel` → at `titel`), so the column points at it. */
function nameOffset(text: string, ref: FieldReference): number {
  const at = text.indexOf(ref.name, ref.start);
  return at >= 0 && at < ref.end ? at : ref.start;
}
