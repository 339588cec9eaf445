import { describe, expect, it } from 'vitest';
import { compileExpression, ExpressionError, HELPER_FUNCTIONS, type CompiledExpression, type ExpressionVars } from './expressions.ts';

const row = {
  employee_id: '1042',
  first_name: 'Zoë',
  last_name: 'Müller',
  work_email: 'Zoe.Mueller@example.com',
  department: 'Sales',
  status: 'Active',
  employment_type: 'Employee',
};

function compile(text: string): CompiledExpression {
  const outcome = compileExpression(text);
  if (!outcome.ok) throw new Error(`expected ${text} to compile, got ${outcome.message} at ${outcome.offset}`);
  return outcome.expression;
}

function run(text: string, vars: ExpressionVars = { app: row }): unknown {
  return compile(text).evaluate(vars);
}

function failure(text: string): { message: string; offset: number } {
  const outcome = compileExpression(text);
  if (outcome.ok) throw new Error(`expected ${text} not to compile`);
  return outcome;
}

describe('compileExpression', () => {
  it('compiles and keeps the text', () => {
    const outcome = compileExpression('app.first_name');
    expect(outcome.ok).toBe(true);
    if (outcome.ok) expect(outcome.expression.text).toBe('app.first_name');
  });

  it('accepts all declared variables', () => {
    expect(compileExpression('app.a + user.b + source').ok).toBe(true);
  });

  it('reports a dangling operator at the end of the text', () => {
    const text = 'app.first_name +';
    const { message, offset } = failure(text);
    expect(message).toMatch(/unexpected token/i);
    expect(message).not.toContain('\n');
    expect(offset).toBeGreaterThanOrEqual(text.length - 1);
    expect(offset).toBeLessThanOrEqual(text.length);
  });

  it('reports a bad operator where it is', () => {
    const text = 'app.a ==== 1';
    const { offset } = failure(text);
    // "app.a ==" is fine; the problem is the second "==" (offset 8), not the start of the text
    expect(offset).toBe(8);
    expect(text.slice(offset)).toBe('== 1');
  });

  it('reports an undeclared variable at compile time, pointing at it', () => {
    expect(compileExpression('foo.bar')).toEqual({ ok: false, message: 'Unknown variable: foo', offset: 0 });
    const text = 'app.first_name + " " + nope.last_name';
    const { message, offset } = failure(text);
    expect(message).toBe('Unknown variable: nope');
    expect(offset).toBe(text.indexOf('nope'));
  });

  it('asks "did you mean ==" for a lone = outside strings, and only then', () => {
    expect(failure('app.status = "Terminated"').message).toMatch(/; did you mean `==`\? CEL compares with `==`/);
    // An = inside a string, or a text broken otherwise, gets no such hint.
    expect(failure('app.status == "a=b" +').message).not.toContain('did you mean');
    expect(failure('app.x >= ').message).not.toContain('did you mean');
  });

  it('lists the functions that exist when a call names none of them', () => {
    expect(failure('lowercase(app.first_name)').message).toMatch(/^found no matching overload for 'lowercase\(dyn\)'; the functions are idplane's substringBefore\(s, sep\), .*toLowerCase\(s\).* and CEL's own \(size, .*lowerAscii/);
    expect(failure('app.first_name.toLower()').message).toContain("the functions are idplane's");
    // Every helper the message names is one the environment has.
    for (const helper of HELPER_FUNCTIONS) {
      const call = helper.replace(/\(.*\)/, (args) => `(${args.slice(1, -1).split(', ').map((a) => (a === 'list' ? '["a"]' : '"a"')).join(', ')})`);
      expect(compileExpression(call).ok, call).toBe(true);
    }
  });

  it('gives offsets as string indexes across lines and non-BMP characters', () => {
    const multiline = 'app.first_name\n  + bar';
    expect(failure(multiline).offset).toBe(multiline.indexOf('bar'));
    const emoji = '"😀😀" + foo';
    expect(failure(emoji).offset).toBe(emoji.indexOf('foo'));
  });

  it('reports type errors and unknown functions', () => {
    const text = 'substringBefore(app.a, 1)';
    expect(failure(text).message).toMatch(/no matching overload/);
    expect(failure('nosuchfn(app.a)').message).toMatch(/nosuchfn/);
    expect(failure('source + 1').offset).toBe(0);
  });

  it('rejects empty text', () => {
    expect(failure('')).toMatchObject({ offset: 0 });
    expect(failure('   ').offset).toBe(3);
  });
});

describe('evaluate: benchmark expressions', () => {
  it('concatenates names', () => {
    expect(run('app.first_name + " " + app.last_name')).toBe('Zoë Müller');
  });

  it('lower-cases the e-mail', () => {
    expect(run('app.work_email.lowerAscii()')).toBe('zoe.mueller@example.com');
  });

  it('returns booleans', () => {
    expect(run('app.status == "Terminated"')).toBe(false);
    expect(run('app.status == "Terminated"', { app: { ...row, status: 'Terminated' } })).toBe(true);
    expect(run('has(app.status) && !has(app.nope)')).toBe(true);
  });

  it('evaluates conditionals', () => {
    const expr = compile('app.employment_type == "Contractor" ? "contractor" : "employee"');
    expect(expr.evaluate({ app: row })).toBe('employee');
    expect(expr.evaluate({ app: { ...row, employment_type: 'Contractor' } })).toBe('contractor');
  });

  it('can be evaluated many times with different rows', () => {
    const expr = compile('app.first_name');
    expect(['a', 'b', 'c'].map((first_name) => expr.evaluate({ app: { first_name } }))).toEqual(['a', 'b', 'c']);
  });

  it('uses user and source', () => {
    expect(run('source == "hr" ? user.login : app.work_email', { app: row, user: { login: 'zm' }, source: 'hr' })).toBe(
      'zm',
    );
  });
});

describe('evaluate: helper functions', () => {
  it('substringBefore / substringAfter', () => {
    expect(run('substringBefore(app.work_email, "@")')).toBe('Zoe.Mueller');
    expect(run('substringAfter(app.work_email, "@")')).toBe('example.com');
    expect(run('substringBefore("abc", "x")')).toBe('abc');
    expect(run('substringAfter("abc", "x")')).toBe('');
    expect(run('substringBefore("abc", "")')).toBe('');
    expect(run('substringAfter("abc", "")')).toBe('abc');
    expect(run('substringAfter("a.b.c", ".")')).toBe('b.c');
  });

  it('toLowerCase / toUpperCase / trim', () => {
    expect(run('toLowerCase(app.last_name)')).toBe('müller');
    expect(run('toUpperCase(app.last_name)')).toBe('MÜLLER');
    expect(run('trim("  x y \\t")')).toBe('x y');
  });

  it('join', () => {
    expect(run('join([app.first_name, app.last_name], " ")')).toBe('Zoë Müller');
    expect(run('join(app.department.split(""), "-")')).toBe('S-a-l-e-s');
    expect(run('join([1, 2, 3], ",")')).toBe('1,2,3');
    expect(run('join([], ",")')).toBe('');
  });

  it('join rejects nested lists at runtime', () => {
    expect(() => run('join([[1]], ",")')).toThrow(ExpressionError);
    expect(() => run('join([[1]], ",")')).toThrow(/list element 0/);
  });

  it('composes with built-ins', () => {
    expect(run('toLowerCase(substringBefore(app.work_email, "@")) + "@corp.example"')).toBe('zoe.mueller@corp.example');
  });
});

describe('evaluate: attribute names that are Object.prototype names', () => {
  it('reads an account with columns named constructor, toString and __proto__ like any other', () => {
    const attributes = Object.assign(Object.create(null) as Record<string, string>, { first_name: 'Ada', constructor: 'builder', toString: 'text' });
    Object.defineProperty(attributes, '__proto__', { value: 'proto', enumerable: true });
    // Not on the fast path (a method call): the CEL library itself reads the map.
    expect(compile('app.first_name.startsWith("A") ? app.constructor + "/" + app.toString : "no"').evaluate({ app: attributes })).toBe('builder/text');
    expect(compile('app["__proto__"].size()').evaluate({ app: attributes })).toBe(5);
    expect(compile('user.constructor.upperAscii()').evaluate({ user: { login: 'a@x', constructor: 'c' } })).toBe('C');
  });
});

describe('evaluate: errors', () => {
  it('throws ExpressionError for a missing key', () => {
    const expr = compile('app.nope');
    let caught: unknown;
    try {
      expr.evaluate({ app: row });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ExpressionError);
    const err = caught as ExpressionError;
    expect(err.code).toBe('EXPRESSION_ERROR');
    expect(err.name).toBe('ExpressionError');
    expect(err.text).toBe('app.nope');
    expect(err.message).toBe('No such key: nope');
    expect(err.cause).toBeInstanceOf(Error);
  });

  it('treats undefined values as missing and never exposes inherited properties', () => {
    expect(() => run('app.x', { app: { x: undefined } })).toThrow('No such key: x');
    expect(() => run('app.constructor')).toThrow(ExpressionError);
    expect(run('has(app.toString)')).toBe(false);
  });

  it('throws when a used variable is not provided', () => {
    expect(() => run('user.login', { app: row })).toThrow('Unknown variable: user');
  });

  it('throws on runtime type errors through dyn', () => {
    expect(() => run('app.first_name + 1')).toThrow(/no such overload/);
    expect(() => run('source', { source: 5 as unknown as string })).toThrow(ExpressionError);
  });

  it('ways to test for a key', () => {
    expect(run('"first_name" in app')).toBe(true);
    expect(run('has(app.middle_name) ? app.middle_name : "-"')).toBe('-');
    expect(run('app.?middle_name.orValue("-")')).toBe('-');
    expect(run('app.?first_name.orValue("-")')).toBe('Zoë');
    expect(run('app["first name"]', { app: { 'first name': 'x' } })).toBe('x');
  });
});

describe('evaluate: plain JS results', () => {
  it('converts ints to numbers', () => {
    expect(run('size(app.first_name)')).toBe(3);
    expect(run('int(app.employee_id) + 1')).toBe(1043);
    expect(run('1u + 2u')).toBe(3);
    expect(run('-9007199254740991')).toBe(Number.MIN_SAFE_INTEGER);
  });

  it('converts ints outside the safe range to strings', () => {
    expect(run('9007199254740991')).toBe(9007199254740991);
    expect(run('9007199254740992')).toBe('9007199254740992');
    expect(run('9223372036854775807')).toBe('9223372036854775807');
    expect(run('-9223372036854775807 - 1')).toBe('-9223372036854775808');
  });

  it('keeps doubles; JS numbers from vars are CEL doubles', () => {
    expect(run('1.5 * 2.0')).toBe(3);
    expect(run('user.n == 1', { user: { n: 1 } })).toBe(true);
    expect(() => run('user.n + 1', { user: { n: 1 } })).toThrow(/no such overload/);
    expect(run('int(user.n) + 1', { user: { n: 1 } })).toBe(2);
    expect(run('user.n + 1', { user: { n: 41n } })).toBe(42);
  });

  it('converts lists and maps recursively', () => {
    expect(run('[1, 2, app.first_name]')).toEqual([1, 2, 'Zoë']);
    expect(run('{"a": 1, "b": [2, 3], "c": {"d": true}}')).toEqual({ a: 1, b: [2, 3], c: { d: true } });
    expect(run('{1: "one", 2: "two"}')).toEqual({ '1': 'one', '2': 'two' });
    expect(run('app.department.split("")')).toEqual(['S', 'a', 'l', 'e', 's']);
    expect(run('user.m', { user: { m: new Map<string, unknown>([['k', 7n]]) } })).toEqual({ k: 7 });
    const result = run('{"a": 1}');
    expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
  });

  it('converts other CEL values', () => {
    expect(run('null')).toBeNull();
    expect(run('app.?nope')).toBeNull();
    expect(run('app.?first_name')).toBe('Zoë');
    expect(run('type(1)')).toBe('int');
    expect(run('duration("90s")')).toBe('90s');
    expect(run('timestamp("2024-01-01T00:00:00Z")')).toEqual(new Date('2024-01-01T00:00:00Z'));
    expect(run('b"hi"')).toEqual(new Uint8Array([104, 105]));
  });
});

describe('dnEscape', () => {
  it('escapes a user value for a DN', () => {
    const c = compileExpression('"ou=" + dnEscape(user.department) + ",dc=example,dc=com"');
    if (!c.ok) throw new Error(c.message);
    expect(c.expression.evaluate({ user: { department: 'x,ou=admins' } })).toBe('ou=x\\,ou\\=admins,dc=example,dc=com');
  });
});

describe('appFields', () => {
  const fields = (text: string) => {
    const outcome = compileExpression(text);
    if (!outcome.ok) throw new Error(outcome.message);
    return outcome.expression.appFields.map((f) => ({ ...f, text: text.slice(f.start, f.end) }));
  };

  it('lists the app fields an expression names, with where each stands', () => {
    expect(fields('app.first_name + " " + app["last name"]')).toEqual([
      { name: 'first_name', start: 0, end: 14, guarded: false, text: 'app.first_name' },
      { name: 'last name', start: 23, end: 39, guarded: false, text: 'app["last name"]' },
    ]);
    expect(fields('app.work_email.lowerAscii()').map((f) => f.name)).toEqual(['work_email']);
    expect(fields('substringBefore(app.mail, "@")').map((f) => f.text)).toEqual(['app.mail']);
  });

  it('marks the fields that are only tested or read optionally', () => {
    expect(fields('has(app.middle) ? app.middle : ""').map((f) => [f.name, f.guarded])).toEqual([['middle', true], ['middle', false]]);
    expect(fields('app.?nick.orValue(app.first)').map((f) => [f.name, f.guarded])).toEqual([['nick', true], ['first', false]]);
    expect(fields('"phone" in app && app.phone != ""').map((f) => [f.name, f.guarded])).toEqual([['phone', true], ['phone', false]]);
  });

  it('names no field for user, source or a computed key', () => {
    expect(fields('user.email + source')).toEqual([]);
    expect(fields('app[source + "_id"]')).toEqual([]);
  });
});
