/**
 * Stage 5, map: computes a user's desired profile from their primary source's mappings, honouring
 * attribute-level sourcing. `source: directory` attributes keep their stored value; `source: <app>`
 * attributes come from that app's mapping whatever the primary source is. An attribute the deciding app
 * does not map stays empty (no silent fallback). Values are converted to the attribute's declared type;
 * an expression error, a value of the wrong type or a missing required attribute is a conflict for that user.
 */
import type { AttributeConfig } from '../schemas/generated/config.ts';
import type { PlanIssue } from '../schemas/generated/plan.ts';
import { sameValue } from './diff.ts';
import { ExpressionError, type CompiledExpression } from './expressions.ts';
import { importedRecord, type DirectoryState, type Profile, type ProfileValue, type Project, type SourceAccount } from './model.ts';
import type { SourcedUser } from './resolve-source.ts';

export interface MappedUser {
  profile: Profile;
  issues: PlanIssue[];
  /** Attributes whose stored value was changed outside idplane while the source did not change. */
  outOfBand: Set<string>;
}

export function mapUser(project: Project, user: SourcedUser, imported: DirectoryState['imported']): MappedUser {
  if (user.declared) return { ...mapDeclared(project, user), outOfBand: new Set() };
  const stored = user.current?.profile ?? {};
  if (user.primary === 'directory') return { profile: { ...stored, ...withSetValues(project, user.current?.login, stored) }, issues: [], outOfBand: new Set() };

  const issues: PlanIssue[] = [];
  const outOfBand = new Set<string>();
  const profile: Profile = {};
  for (const [name, attribute] of Object.entries(project.attributes)) {
    const deciding = attribute.source ?? user.primary;
    if (deciding === 'directory') continue; // filled in below, once the login is known
    const account = user.accounts.get(deciding);
    const mapping = project.apps[deciding]?.import?.mappings.find((m) => m.attribute === name);
    if (!account || !mapping) {
      // login identifies the user: a source that does not map it leaves the stored login alone.
      if (name === 'login' && stored.login !== undefined) profile.login = stored.login;
      continue;
    }
    const value = evaluateMapping(deciding, account, name, mapping.expression, attribute, issues);
    if (value !== undefined) profile[name] = value;
    // The source said the same last time, yet the stored value differs: someone changed it out of band.
    const sameDecider = attribute.source !== undefined || user.current?.profileSource === user.primary;
    const prior = user.current && sameDecider ? importedRecord(imported, deciding, account.key) : undefined;
    if (prior && !sameValue(stored[name], value) && sameValue(previousValue(mapping.expression, prior.attributes, deciding, attribute), value)) {
      outOfBand.add(name);
    }
  }
  const login = typeof profile.login === 'string' ? profile.login : user.current?.login;
  Object.assign(profile, withSetValues(project, login, stored));
  requireAttributes(project, user, profile, issues);
  return { profile, issues, outOfBand };
}

/** Directory-owned attributes: stored values, overridden by `set:` entries in the config. */
function withSetValues(project: Project, login: string | undefined, stored: Profile): Profile {
  const set = login ? project.setValues.get(login.toLowerCase())?.attributes : undefined;
  const owned: Profile = {};
  for (const [name, attribute] of Object.entries(project.attributes)) {
    if (attribute.source !== 'directory') continue;
    if (set && name in set) {
      const converted = convert(set[name], attribute);
      if (converted.ok && converted.value !== undefined) owned[name] = converted.value;
    } else if (stored[name] !== undefined) {
      owned[name] = stored[name]!;
    }
  }
  return owned;
}

function previousValue(expression: CompiledExpression, attributes: Record<string, string>, app: string, attribute: AttributeConfig): ProfileValue | undefined {
  try {
    const converted = convert(expression.evaluate({ app: attributes, source: app }), attribute);
    return converted.ok ? converted.value : undefined;
  } catch {
    return undefined;
  }
}

function mapDeclared(project: Project, user: SourcedUser): Omit<MappedUser, 'outOfBand'> {
  const declared = user.declared!;
  const issues: PlanIssue[] = [];
  const profile: Profile = {};
  const given: Record<string, unknown> = { ...(declared.profile ?? {}), login: declared.login };
  for (const [name, raw] of Object.entries(given)) {
    const attribute = project.attributes[name];
    if (!attribute) continue; // validate() reports undeclared attributes
    const converted = convert(raw, attribute);
    if (converted.ok && converted.value !== undefined) profile[name] = converted.value;
    else if (!converted.ok) issues.push({ code: 'invalid-value', users: [declared.login], attribute: name, message: `declared user ${declared.login}: ${name} ${converted.reason}` });
  }
  requireAttributes(project, user, profile, issues);
  return { profile, issues };
}

function evaluateMapping(
  app: string,
  account: SourceAccount,
  name: string,
  expression: { evaluate(vars: { app: Record<string, string>; source: string }): unknown; text: string },
  attribute: AttributeConfig,
  issues: PlanIssue[],
): ProfileValue | undefined {
  let raw: unknown;
  try {
    raw = expression.evaluate({ app: account.attributes, source: app });
  } catch (error) {
    const message = error instanceof ExpressionError ? error.message : String(error);
    issues.push({ code: 'expression-error', app, key: account.key, line: account.line, attribute: name, message: `mapping for ${name} (${expression.text}) failed: ${message}` });
    return undefined;
  }
  const converted = convert(raw, attribute);
  if (converted.ok) return converted.value;
  issues.push({ code: 'invalid-value', app, key: account.key, line: account.line, attribute: name, message: `mapping for ${name} gave a value that ${converted.reason}` });
  return undefined;
}

function requireAttributes(project: Project, user: SourcedUser, profile: Profile, issues: PlanIssue[]): void {
  for (const [name, attribute] of Object.entries(project.attributes)) {
    if ((attribute.required || name === 'login') && profile[name] === undefined) {
      const account = user.accounts.get(user.primary);
      issues.push({
        code: 'missing-required', attribute: name,
        ...(account ? { app: user.primary, key: account.key, line: account.line } : {}),
        ...(user.current ? { users: [user.current.login] } : {}),
        message: `required attribute ${name} is empty`,
      });
    }
  }
}

type Converted = { ok: true; value: ProfileValue | undefined } | { ok: false; reason: string };

/** Converts a mapped value to the attribute's type. null, undefined and '' mean unset. */
export function convert(raw: unknown, attribute: AttributeConfig): Converted {
  if (raw === null || raw === undefined || raw === '') return { ok: true, value: undefined };
  const type = attribute.type ?? 'string';
  switch (type) {
    case 'string':
      if (typeof raw === 'string') return { ok: true, value: raw };
      if (typeof raw === 'number' || typeof raw === 'boolean') return { ok: true, value: String(raw) };
      return { ok: false, reason: `is not a string (${describe(raw)})` };
    case 'integer': {
      const n = typeof raw === 'string' ? Number(raw.trim()) : raw;
      if (typeof n === 'number' && Number.isSafeInteger(n)) return { ok: true, value: n };
      return { ok: false, reason: `is not an integer (${describe(raw)})` };
    }
    case 'number': {
      const n = typeof raw === 'string' ? Number(raw.trim()) : raw;
      if (typeof n === 'number' && Number.isFinite(n)) return { ok: true, value: n };
      return { ok: false, reason: `is not a number (${describe(raw)})` };
    }
    case 'boolean':
      if (typeof raw === 'boolean') return { ok: true, value: raw };
      if (raw === 'true' || raw === 'false') return { ok: true, value: raw === 'true' };
      return { ok: false, reason: `is not a boolean (${describe(raw)})` };
    case 'string[]':
      if (Array.isArray(raw) && raw.every((v) => typeof v === 'string')) return { ok: true, value: raw.length ? [...raw] : undefined };
      if (typeof raw === 'string') return { ok: true, value: [raw] };
      return { ok: false, reason: `is not a list of strings (${describe(raw)})` };
    default: {
      const never: never = type;
      return { ok: false, reason: `has unknown type ${String(never)}` };
    }
  }
}

function describe(raw: unknown): string {
  const text = JSON.stringify(raw) ?? String(raw);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}
