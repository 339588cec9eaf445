/**
 * The fast path of common mapping expressions must give exactly what the CEL library gives: the same
 * value, or the same error message, for every expression shape it takes and for rows that exercise its
 * edges (missing keys, empty, null, numbers, lists, unicode, inherited property names), and it must take
 * the shapes the mappings of the examples use. Each result is compared with the library's own, reached
 * through an expression the fast path does not take (the same text as the one item of a list, indexed).
 */
import { describe, expect, it } from 'vitest';
import { fastPath } from './expression-fast-path.ts';
import { compileExpression } from './expressions.ts';
import type { ASTNode } from '@marcbachmann/cel-js';

const EXPRESSIONS = [
  'app.work_email', 'app["first name"]', 'app.work_email.lowerAscii()', 'app.title.upperAscii()',
  'app.first_name + " " + app.last_name', 'app.first_name + app.missing', '"x" + app.a + "y"',
  'app.status == "Terminated"', 'app.status != "Active"', 'app.a == app.b',
  'app.employment_type == "Contractor" ? "contractor" : "employee"', 'app.flag == "1" ? app.a : app.b',
  '!(app.status == "Terminated")', 'app.a == "x" && app.b == "y"', 'app.a == "x" || app.missing == "y"',
  'app.missing == "y" || app.a == "x"', 'app.missing == "y" && false', '"const"', 'true',
  'app.constructor', 'app.__proto__', 'app.toString',
];

const ROWS: Record<string, unknown>[] = [
  { work_email: 'Zoë.Müller@Example.com', 'first name': 'Zoë', first_name: 'Zoë', last_name: 'Müller', title: 'straße', status: 'Terminated', employment_type: 'Contractor', a: 'x', b: 'y', flag: '1' },
  { work_email: '', first_name: '', last_name: '', title: '', status: 'Active', employment_type: 'Employee', a: 'x', b: 'x', flag: '0' },
  { work_email: 'a@b', first_name: 'A', last_name: null, title: 'i̇', status: 'Active', a: 'z', b: 'y' },
  { work_email: 42, first_name: 1.5, last_name: ['l'], title: true, status: null, employment_type: 'Contractor', a: 'x', b: 'y', flag: '1' },
  {},
  Object.assign(Object.create({ inherited: 'no' }), { status: 'Terminated', a: 'x', b: 'y' }),
];

/** The library's outcome: its value, or its error's message. */
function outcome(run: () => unknown): { value: unknown } | { error: string } {
  try {
    return { value: run() };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

function compiled(text: string) {
  const c = compileExpression(text);
  if (!c.ok) throw new Error(`${text}: ${c.message}`);
  return c.expression;
}

describe('the fast path of CEL expressions', () => {
  it('gives what the library gives, value or error, for every expression and row', () => {
    let fast = 0;
    for (const text of EXPRESSIONS) {
      const expression = compiled(text);
      // The same expression behind a shape the fast path does not take: the library evaluates it.
      const slow = compiled(`[${text}][0]`);
      expect(fastPath((slow as unknown as { ast: ASTNode }).ast), text).toBeNull();
      for (const app of ROWS) {
        expect(outcome(() => expression.evaluate({ app })), `${text} on ${JSON.stringify(app)}`).toEqual(outcome(() => slow.evaluate({ app })));
      }
      if (fastPath((expression as unknown as { ast: ASTNode }).ast)) fast += 1;
    }
    expect(fast).toBe(EXPRESSIONS.length);
  });

  it('takes the shapes the examples map with, and leaves others to the library', () => {
    const shape = (text: string) => fastPath((compiled(text) as unknown as { ast: ASTNode }).ast) !== null;
    expect(['app.work_email.lowerAscii()', 'app.first_name + " " + app.last_name', 'app.status == "Terminated"'].every(shape)).toBe(true);
    expect(['size(app.a)', 'app.a.split(",")', 'has(app.a) ? app.a : ""', 'user.email', 'substringBefore(app.a, "@")', '1 + 2'].some(shape)).toBe(false);
  });
});
