/**
 * Matching rules, compiled: each rule turns an account and a user into comparable keys, so correlation
 * joins accounts to users through hash indexes instead of comparing every pair. Three forms: a pair of
 * attributes, a combination of pairs (all must agree), and two CEL expressions (one over the account,
 * one over the user). Normalisation per rule: case, trim (and collapse whitespace), diacritics.
 * An empty value on either side never matches.
 */
import type { MatchRule } from '../schemas/generated/config.ts';
import type { CompiledExpression } from './expressions.ts';
import type { UserRecord } from '../schemas/generated/plan.ts';

export interface CompiledMatchRule {
  /** Stable id, used to cache the rule's user index. */
  id: string;
  /** How the plan names the rule, e.g. `work_email = user.email (case)`. */
  label: string;
  partial: boolean;
  /** Directory attributes the user side reads, or null when an expression may read any. */
  userAttributes: string[] | null;
  accountKey(attributes: Record<string, string>): string | null;
  userKey(user: UserRecord): string | null;
}

type Normalize = NonNullable<MatchRule['normalize']>[number];

export function compileMatchRule(rule: MatchRule, id: string, expressions?: { app: CompiledExpression; user: CompiledExpression }): CompiledMatchRule {
  const norm = normaliser(rule.normalize ?? []);
  const suffix = rule.normalize?.length ? ` (${rule.normalize.join(', ')})` : '';
  const partial = rule.partial === true;
  if (expressions) {
    return {
      id, partial, userAttributes: null,
      label: `${rule.expression!.app} = ${rule.expression!.user}${suffix}`,
      accountKey: (attributes) => norm(safeString(() => expressions.app.evaluate({ app: attributes }))),
      userKey: (user) => norm(safeString(() => expressions.user.evaluate({ user: { ...user.profile, login: user.login } }))),
    };
  }
  const pairs = rule.all ?? [{ app: rule.app!, user: rule.user! }];
  return {
    id, partial, userAttributes: pairs.map((p) => p.user),
    label: `${pairs.map((p) => `${p.app} = user.${p.user}`).join(' and ')}${suffix}`,
    accountKey: (attributes) => joinKeys(pairs.map((p) => norm(attributes[p.app]))),
    userKey: (user) => joinKeys(pairs.map((p) => norm(scalar(p.user === 'login' ? user.login : user.profile[p.user])))),
  };
}

function joinKeys(parts: (string | null)[]): string | null {
  if (parts.some((p) => p === null)) return null;
  return parts.length === 1 ? parts[0]! : parts.join('\u0000');
}

function scalar(value: unknown): string | undefined {
  return typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' ? String(value) : undefined;
}

function safeString(run: () => unknown): string | undefined {
  try {
    return scalar(run());
  } catch {
    return undefined; // a missing attribute on either side simply does not match
  }
}

export function normaliser(options: readonly Normalize[]): (value: string | undefined) => string | null {
  const kase = options.includes('case');
  const trim = options.includes('trim');
  const fold = options.includes('diacritics');
  return (value) => {
    if (value === undefined) return null;
    let v = value;
    if (trim) v = v.trim().replace(/\s+/g, ' ');
    if (fold) v = foldDiacritics(v);
    if (kase) v = v.toLowerCase();
    return v === '' ? null : v;
  };
}

/** Letters that Unicode decomposition does not split into base letter + mark. */
const FOLD: Record<string, string> = {
  ß: 'ss', ẞ: 'SS', æ: 'ae', Æ: 'AE', œ: 'oe', Œ: 'OE', ø: 'o', Ø: 'O', ł: 'l', Ł: 'L', đ: 'd', Đ: 'D',
  ð: 'd', Ð: 'D', þ: 'th', Þ: 'TH', ı: 'i', ħ: 'h', Ħ: 'H',
};
const FOLD_PATTERN = new RegExp(`[${Object.keys(FOLD).join('')}]`, 'g');

export function foldDiacritics(value: string): string {
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(value)) return value;
  return value.normalize('NFKD').replace(/\p{M}+/gu, '').replace(FOLD_PATTERN, (c) => FOLD[c]!);
}
