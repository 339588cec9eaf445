/**
 * A fast path for the CEL expressions most mappings are made of: an app attribute, its lowerAscii() or
 * upperAscii(), string concatenation, string (in)equality, !, && and ||, and the ternary, over string
 * and boolean literals. Such an expression is turned once into a plain JavaScript closure that evaluates
 * it without the interpreter's per-evaluation allocations (a million-user import evaluates a dozen
 * mappings per user). The closure gives exactly what the library gives, or FALLBACK, and then the
 * library evaluates the expression itself: whenever a value is not a string (a number, null, a list), a
 * key is missing (the library says which, as an error), or a condition is not a boolean. So it never
 * has to reproduce an error or a conversion, only the plain cases, which are those of CEL's spec: map
 * access by own key, string + string, == and != on strings, and the library's lowerAscii()/upperAscii()
 * (String.prototype.toLowerCase/toUpperCase, see expressions.ts). Expressions of any other shape get no
 * fast path.
 */
import type { ASTNode } from '@marcbachmann/cel-js';

/** Returned when the fast path cannot tell: the library must evaluate the expression. */
export const FALLBACK: unique symbol = Symbol('fallback');

export type FastPath = (vars: { app?: Record<string, unknown> }) => string | boolean | typeof FALLBACK;

type Fast = FastPath;

/** The closure for `ast`, or null when its shape is not one the fast path knows. */
export function fastPath(ast: ASTNode): FastPath | null {
  return compile(ast);
}

function compile(node: ASTNode): Fast | null {
  const args = node.args as unknown;
  switch (node.op) {
    case 'value': {
      if (typeof args !== 'string' && typeof args !== 'boolean') return null;
      return () => args;
    }
    case '.':
    case '[]': {
      const [target, key] = args as [ASTNode, unknown];
      const name = node.op === '.' ? key : (key as ASTNode)?.op === 'value' ? (key as ASTNode).args : undefined;
      if (target?.op !== 'id' || target.args !== 'app' || typeof name !== 'string') return null;
      return (vars) => {
        const app = vars.app;
        if (app === undefined || app === null || !Object.hasOwn(app, name)) return FALLBACK;
        const value = app[name];
        return typeof value === 'string' ? value : FALLBACK;
      };
    }
    case 'rcall': {
      const [method, receiver, callArgs] = args as [unknown, ASTNode, unknown[]];
      if ((method !== 'lowerAscii' && method !== 'upperAscii') || !Array.isArray(callArgs) || callArgs.length !== 0) return null;
      const of = compile(receiver);
      if (!of) return null;
      const lower = method === 'lowerAscii';
      return (vars) => {
        const s = of(vars);
        if (typeof s !== 'string') return FALLBACK;
        return lower ? s.toLowerCase() : s.toUpperCase();
      };
    }
    case '+':
    case '==':
    case '!=': {
      const [left, right] = (args as ASTNode[]).map(compile);
      if (!left || !right) return null;
      const op = node.op;
      return (vars) => {
        const a = left(vars);
        if (typeof a !== 'string') return FALLBACK;
        const b = right(vars);
        if (typeof b !== 'string') return FALLBACK;
        return op === '+' ? a + b : op === '==' ? a === b : a !== b;
      };
    }
    case '&&':
    case '||': {
      const [left, right] = (args as ASTNode[]).map(compile);
      if (!left || !right) return null;
      const and = node.op === '&&';
      // Both sides are evaluated: CEL's && and || absorb an error on either side, which only the library says.
      return (vars) => {
        const a = left(vars);
        const b = right(vars);
        if (typeof a !== 'boolean' || typeof b !== 'boolean') return FALLBACK;
        return and ? a && b : a || b;
      };
    }
    case '!_': {
      const of = compile(args as ASTNode);
      if (!of) return null;
      return (vars) => {
        const v = of(vars);
        return typeof v === 'boolean' ? !v : FALLBACK;
      };
    }
    case '?:': {
      const [condition, then, otherwise] = (args as ASTNode[]).map(compile);
      if (!condition || !then || !otherwise) return null;
      return (vars) => {
        const c = condition(vars);
        if (typeof c !== 'boolean') return FALLBACK;
        return c ? then(vars) : otherwise(vars);
      };
    }
    default:
      return null;
  }
}
