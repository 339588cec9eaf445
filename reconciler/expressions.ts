/**
 * CEL expressions for attribute mappings and conditions: a small, pure wrapper around @marcbachmann/cel-js
 * (chosen in bench/RESULTS.md, "CEL engine choice"). Nothing else in idplane should import the CEL library.
 *
 * Contract
 *   compileExpression(text) parses AND type-checks `text` once and never throws:
 *     { ok: true, expression }                 expression.evaluate(vars) can be called any number of times;
 *     { ok: false, message, offset }           message: the library's one-line message (e.g. "Unknown variable: foo");
 *                                              offset: 0-based index into `text` (UTF-16 code units, i.e. what
 *                                              `text.slice(offset)` expects) where the problem is; 0 if unknown.
 *   Declared variables (anything else is a compile error, "Unknown variable: <name>"); plan policies
 *   (compilePolicyExpression) declare change, user and before instead (reconciler/policies.ts):
 *     app     map(string, dyn)   the source row / app profile, e.g. a CSV HR row
 *     user    map(string, dyn)   the idplane user profile
 *     source  string             name of the source the row came from
 *   A variable the expression uses must be present in `vars` at evaluation time (else ExpressionError
 *   "Unknown variable: app"); `source` must be a string.
 *
 *   expression.evaluate(vars) returns plain JS values:
 *     CEL int/uint -> number when it is a safe integer, else its decimal string; double -> number; string, bool,
 *     null as is; list -> array; map -> plain object (keys stringified); optional -> its value or null;
 *     bytes -> Uint8Array; timestamp -> Date; duration -> CEL string form ("90s"); type -> its name ("int").
 *   Runtime errors throw ExpressionError (code 'EXPRESSION_ERROR', .text = the expression, .cause = the library
 *   error) carrying the library's one-line message, e.g. "No such key: nope" for `app.nope` on a row without it.
 *
 * Helper functions (for people coming from Okta Expression Language; all global functions, not methods):
 *   substringBefore(s, sep): string   text before the first `sep`; `s` if `sep` is absent; "" if `sep` is ""
 *   substringAfter(s, sep): string    text after the first `sep`; "" if `sep` is absent; `s` if `sep` is ""
 *   toLowerCase(s): string            full Unicode lower-casing (String.prototype.toLowerCase)
 *   toUpperCase(s): string            full Unicode upper-casing
 *   trim(s): string                   strips leading/trailing whitespace
 *   join(list, sep): string           joins strings/numbers/bools with `sep`, e.g. join([app.a, app.b], " ")
 *   dnEscape(s): string               escapes a value for an LDAP DN (RFC 4514), e.g. "ou=" + dnEscape(user.department)
 *   (The CEL built-ins also work: s.lowerAscii(), s.upperAscii(), s.trim(), s.split(","), list.join(","),
 *   s.contains/startsWith/endsWith/matches, s.substring, s.indexOf, size(), int(), string(), ...)
 *
 * Quirks the rest of the code base must know
 *   - Integers are CEL ints, which the library represents as bigint: `size(app.x)` is 3n inside CEL and 3 after
 *     evaluate(). JS numbers passed in `vars` are CEL *doubles*: `user.n == 1` is true (numeric equality works
 *     across types) but `user.n + 1` is a runtime error (no double + int); write `user.n + 1.0` or `int(user.n) + 1`.
 *   - Map values are `dyn`, so `app.first_name + 1` compiles and fails only at evaluation (no string + int).
 *   - A missing key is an error, not null: `app.nope` throws "No such key: nope". A key whose value is
 *     `undefined` counts as missing; `null` is a value. Test for a key with `has(app.middle_name)` or
 *     `"middle_name" in app`; default it with `has(app.x) ? app.x : ""` or `app.?x.orValue("")`.
 *     Keys that are not identifiers: `app["first name"]`. Inherited properties (`constructor`, `__proto__`) are
 *     never visible.
 *   - `lowerAscii()`/`upperAscii()` in this library change non-ASCII letters too ("Ä".lowerAscii() == "ä"),
 *     unlike the CEL spec (ASCII only).
 *   - List/map literals may mix types (`[app.a, "x"]`): homogeneous aggregate literals are not enforced.
 *   - Compile once, evaluate many: compiling costs a few µs, evaluating well under 1 µs (bench/cel-engines.ts).
 */
import { Environment, Optional, type ASTNode, type ParseResult } from '@marcbachmann/cel-js';
import { escapeDnValue } from './ldap-escape.ts';
import { FALLBACK, fastPath, type FastPath } from './expression-fast-path.ts';

export type ExpressionVars = { app?: Record<string, unknown>; user?: Record<string, unknown>; source?: string; change?: Record<string, unknown>; before?: Record<string, unknown> };

export interface CompiledExpression {
  readonly text: string;
  /**
   * The fields of `app` the expression names literally (`app.title`, `app["first name"]`), in order,
   * with where each name stands in `text`; `guarded` when it is only tested or read optionally
   * (`has(app.x)`, `app.?x`, `"x" in app`), so a row without it is expected. For config checks.
   */
  readonly appFields: readonly FieldReference[];
  evaluate(vars: ExpressionVars): unknown;
}

export interface FieldReference {
  name: string;
  /** 0-based offsets into the expression's text of the reference (`app.titel`: the whole of it). */
  start: number;
  end: number;
  guarded: boolean;
}

export type CompileOutcome =
  | { ok: true; expression: CompiledExpression }
  | { ok: false; message: string; offset: number }; // offset: 0-based character offset of the problem inside `text`

export class ExpressionError extends Error {
  readonly code = 'EXPRESSION_ERROR';
  readonly text: string;

  constructor(message: string, text: string) {
    super(message);
    this.text = text;
    this.name = 'ExpressionError';
  }
}

// ---- helper functions -------------------------------------------------------------------------------------

function substringBefore(s: string, sep: string): string {
  if (sep === '') return '';
  const i = s.indexOf(sep);
  return i < 0 ? s : s.slice(0, i);
}

function substringAfter(s: string, sep: string): string {
  if (sep === '') return s;
  const i = s.indexOf(sep);
  return i < 0 ? '' : s.slice(i + sep.length);
}

function join(list: unknown, sep: string): string {
  if (!Array.isArray(list)) throw new Error('join: first argument must be a list');
  return list
    .map((v, i) => {
      if (typeof v === 'string') return v;
      const plain = toPlain(v);
      if (typeof plain === 'number' || typeof plain === 'boolean' || typeof plain === 'string') return String(plain);
      throw new Error(`join: list element ${i} is ${describe(v)}, expected a string, number or bool`);
    })
    .join(sep);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a map';
  return `a ${typeof v}`;
}

/** The helper functions, on an environment that declares its variables. */
function withHelpers(environment: Environment): Environment {
  return environment
    .registerFunction('substringBefore(string, string): string', substringBefore, {
      description: 'Text before the first separator; the whole string if the separator is absent',
    })
    .registerFunction('substringAfter(string, string): string', substringAfter, {
      description: 'Text after the first separator; "" if the separator is absent',
    })
    .registerFunction('toLowerCase(string): string', (s: string) => s.toLowerCase(), {
      description: 'Lower-cases (full Unicode)',
    })
    .registerFunction('toUpperCase(string): string', (s: string) => s.toUpperCase(), {
      description: 'Upper-cases (full Unicode)',
    })
    .registerFunction('trim(string): string', (s: string) => s.trim(), {
      description: 'Strips leading and trailing whitespace',
    })
    .registerFunction('join(list, string): string', join, {
      description: 'Joins the strings, numbers or bools of a list with a separator',
    })
    .registerFunction('dnEscape(string): string', escapeDnValue, {
      description: 'Escapes a value for use inside an LDAP DN (RFC 4514), e.g. "ou=" + dnEscape(user.department)',
    });
}

// The environments are expensive to build and immutable once built: create each once per process.
const env = withHelpers(new Environment({ enableOptionalTypes: true, homogeneousAggregateLiterals: false })
  .registerVariable('app', 'map<string, dyn>', { description: 'Source row / app profile' })
  .registerVariable('user', 'map<string, dyn>', { description: 'idplane user profile' })
  .registerVariable('source', 'string', { description: 'Name of the source' }));

/** Plan policies (reconciler/policies.ts): one change of a plan, and its user after and before it. */
let policyEnv: Environment | null = null;
function policyEnvironment(): Environment {
  policyEnv ??= withHelpers(new Environment({ enableOptionalTypes: true, homogeneousAggregateLiterals: false })
    .registerVariable('change', 'map<string, dyn>', { description: 'One change of the plan' })
    .registerVariable('user', 'map<string, dyn>', { description: 'The user after the plan' })
    .registerVariable('before', 'map<string, dyn>', { description: 'The user before the plan' }));
  return policyEnv;
}

// ---- compile ----------------------------------------------------------------------------------------------

interface LibraryErrorShape {
  message?: unknown;
  summary?: unknown;
  range?: { start?: unknown };
  node?: { start?: unknown; pos?: unknown };
}

/** A lone `=` outside strings (`app.status = "Terminated"`): what SQL and spreadsheets write for `==`. */
const LONE_EQUALS = /(^|[^=!<>])=(?!=)/;

/** idplane's own helper functions, as a message lists them (registered in the environment above). */
export const HELPER_FUNCTIONS = ['substringBefore(s, sep)', 'substringAfter(s, sep)', 'toLowerCase(s)', 'toUpperCase(s)', 'trim(s)', 'join(list, sep)', 'dnEscape(s)'];

/** A call of a function the environment does not have, with the functions that exist. */
function unknownFunctionHint(message: string): string {
  const m = /^found no matching overload for '(?:[^'(]*\.)?(\w+)\(/.exec(message);
  if (!m) return '';
  return `; the functions are idplane's ${HELPER_FUNCTIONS.join(', ')} and CEL's own (size, contains, startsWith, endsWith, matches, lowerAscii, upperAscii, replace, split, substring, indexOf, has, exists, all, filter, map, int, string, …)`;
}

/** What the author most likely meant, for a text that does not parse. */
function hintFor(text: string): string {
  const code = text.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""');
  return LONE_EQUALS.test(code) ? '; did you mean `==`? CEL compares with `==` (a single `=` is not an operator)' : '';
}

function messageOf(err: unknown): string {
  if (err && typeof err === 'object') {
    const e = err as LibraryErrorShape;
    if (typeof e.summary === 'string' && e.summary !== '') return e.summary;
    if (typeof e.message === 'string' && e.message !== '') return e.message.split('\n', 1)[0]!;
  }
  return String(err);
}

function offsetOf(err: unknown, text: string): number {
  if (!err || typeof err !== 'object') return 0;
  const e = err as LibraryErrorShape;
  const candidates = [e.range?.start, e.node?.start, e.node?.pos];
  const found = candidates.find((c): c is number => typeof c === 'number' && Number.isInteger(c));
  if (found === undefined) return 0;
  return Math.min(Math.max(found, 0), text.length);
}

/** The literal field references of `variable` in an expression's syntax tree (see CompiledExpression.appFields). */
function fieldsOf(root: ASTNode, variable = 'app'): FieldReference[] {
  const found: FieldReference[] = [];
  const isApp = (n: ASTNode) => n.op === 'id' && n.args === variable;
  const visit = (node: ASTNode, guarded: boolean): void => {
    switch (node.op) {
      case '.': case '.?': {
        const [target, name] = node.args;
        if (isApp(target)) found.push({ name, start: node.range.start, end: node.range.end, guarded: guarded || node.op === '.?' });
        else visit(target, guarded);
        return;
      }
      case '[]': case '[?]': {
        const [target, index] = node.args;
        if (isApp(target) && index.op === 'value' && typeof index.args === 'string') {
          found.push({ name: index.args, start: node.range.start, end: node.range.end, guarded: guarded || node.op === '[?]' });
          return;
        }
        visit(target, guarded);
        visit(index, guarded);
        return;
      }
      case 'in': {
        const [key, container] = node.args;
        if (isApp(container) && key.op === 'value' && typeof key.args === 'string') {
          found.push({ name: key.args, start: node.range.start, end: node.range.end, guarded: true });
          return;
        }
        break;
      }
      case 'call':
        // has(app.x) is the presence test: what it names may be absent.
        if (node.args[0] === 'has') {
          for (const arg of node.args[1]) visit(arg, true);
          return;
        }
        break;
      default:
        break;
    }
    for (const child of children(node)) visit(child, guarded);
  };
  visit(root, false);
  return found;
}

function children(node: ASTNode): ASTNode[] {
  const out: ASTNode[] = [];
  const collect = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(collect);
    else if (v && typeof v === 'object' && 'op' in v) out.push(v as ASTNode);
  };
  if (node.op !== 'value' && node.op !== 'id') collect(node.args);
  return out;
}

class Compiled implements CompiledExpression {
  readonly #fn: ParseResult;
  /** The closure for the plain cases of a common shape (expression-fast-path.ts), or null. */
  readonly #fast: FastPath | null;
  readonly text: string;
  readonly appFields: readonly FieldReference[];

  constructor(text: string, fn: ParseResult, appFields: readonly FieldReference[]) {
    this.#fn = fn;
    this.#fast = fastPath(fn.ast);
    this.text = text;
    this.appFields = appFields;
  }

  get ast(): ASTNode {
    return this.#fn.ast;
  }

  evaluate(vars: ExpressionVars): unknown {
    if (this.#fast) {
      const value = this.#fast(vars);
      if (value !== FALLBACK) return value;
    }
    let raw: unknown;
    try {
      raw = this.#fn(asCelVars(vars));
    } catch (err) {
      const wrapped = new ExpressionError(messageOf(err), this.text);
      wrapped.cause = err;
      throw wrapped;
    }
    return toPlain(raw);
  }
}

/**
 * The variables as the CEL library takes them. It tells a value's type by its `constructor`, so a map
 * of attributes with an attribute named `constructor` (a CSV column, a JIT body's key) reads as an
 * unsupported object and fails every expression of the account; such a map goes in as a Map, which the
 * library reads as a CEL map whatever its keys. Other maps go in as they are (no copy per evaluation).
 */
function asCelVars(vars: ExpressionVars): ExpressionVars {
  let out: ExpressionVars | null = null;
  for (const name of ['app', 'user', 'change', 'before'] as const) {
    const value = vars[name];
    if (value !== undefined && value !== null && Object.hasOwn(value, 'constructor')) {
      out ??= { ...vars };
      (out as Record<string, unknown>)[name] = new Map(Object.entries(value));
    }
  }
  return out ?? vars;
}

export function compileExpression(text: string): CompileOutcome {
  return compileIn(env, text, (ast) => fieldsOf(ast));
}

export interface CompiledPolicyExpression extends CompiledExpression {
  /** The literal fields of `change`, `user` and `before` the expression names, for config checks. */
  readonly fields: Readonly<Record<'change' | 'user' | 'before', readonly FieldReference[]>>;
}

export type PolicyCompileOutcome = { ok: true; expression: CompiledPolicyExpression } | { ok: false; message: string; offset: number };

/** A plan policy's `when` (variables `change`, `user`, `before`; the same helper functions). */
export function compilePolicyExpression(text: string): PolicyCompileOutcome {
  const outcome = compileIn(policyEnvironment(), text, () => []);
  if (!outcome.ok) return outcome;
  const ast = (outcome.expression as Compiled).ast;
  const fields = { change: fieldsOf(ast, 'change'), user: fieldsOf(ast, 'user'), before: fieldsOf(ast, 'before') };
  return { ok: true, expression: Object.assign(outcome.expression, { fields }) };
}

function compileIn(environment: Environment, text: string, fields: (ast: ASTNode) => FieldReference[]): CompileOutcome {
  if (typeof text !== 'string') return { ok: false, message: 'expression must be a string', offset: 0 };
  let fn: ParseResult;
  try {
    fn = environment.parse(text);
  } catch (err) {
    return { ok: false, message: `${messageOf(err)}${hintFor(text)}`, offset: offsetOf(err, text) };
  }
  // check() type-checks against the declared variables and functions and caches the types on the AST, so
  // errors surface here rather than at the first evaluation.
  let checked: ReturnType<ParseResult['check']>;
  try {
    checked = fn.check();
  } catch (err) {
    return { ok: false, message: messageOf(err), offset: offsetOf(err, text) };
  }
  if (!checked.valid) {
    const message = messageOf(checked.error);
    return { ok: false, message: `${message}${unknownFunctionHint(message)}`, offset: offsetOf(checked.error, text) };
  }
  return { ok: true, expression: new Compiled(text, fn, fields(fn.ast)) };
}

// ---- results to plain JS values ---------------------------------------------------------------------------

function bigintToPlain(v: bigint): number | string {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
}

function toPlain(v: unknown): unknown {
  if (typeof v === 'bigint') return bigintToPlain(v);
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(toPlain);
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, val]) => [String(toPlain(k)), toPlain(val)]));
  if (v instanceof Optional) return v.hasValue() ? toPlain(v.value()) : null;
  if (v instanceof Date || v instanceof Uint8Array) return v;
  const proto: unknown = Object.getPrototypeOf(v);
  if (proto === Object.prototype || proto === null) {
    return Object.fromEntries(Object.entries(v).map(([k, val]) => [k, toPlain(val)]));
  }
  // Library value classes that are not exported: uint (valueOf() is a bigint), type (has a string `name`),
  // duration (toString() is the CEL form, e.g. "90s").
  const primitive: unknown = v.valueOf();
  if (typeof primitive === 'bigint') return bigintToPlain(primitive);
  if (v.constructor?.name === 'Type' && typeof (v as { name?: unknown }).name === 'string') {
    return (v as { name: string }).name;
  }
  return String(v);
}
