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
import type { DirectoryState, Profile, ProfileValue, Project, SourceAccount } from './model.ts';
import { recordAttributes } from './records.ts';
import type { SourcedUser } from './resolve-source.ts';

export interface MappedUser {
  profile: Profile;
  issues: PlanIssue[];
  /** Attributes whose stored value was changed outside idplane while the source did not change. */
  outOfBand: ReadonlySet<string>;
}

const NO_ATTRIBUTES: ReadonlySet<string> = new Set();
const NO_ISSUES: PlanIssue[] = Object.freeze([]) as unknown as PlanIssue[];

/** What mapping needs of a project, worked out once per project rather than once per user. */
interface MappingTable {
  /** Every directory attribute, in config order. */
  attributes: [string, AttributeConfig][];
  /** `source: directory` attributes. */
  owned: [string, AttributeConfig][];
  /** required attributes, login always. */
  required: string[];
  /** app → directory attribute → its import mapping. */
  mappings: Map<string, Map<string, CompiledExpression>>;
  /** primary source → what decides each attribute of its users (made on first use). */
  byPrimary: Map<string, Decision[]>;
}

/** One attribute of users with a given primary source: who decides it, and the mapping that gives it. */
interface Decision {
  name: string;
  attribute: AttributeConfig;
  /** The app whose account decides it: the primary, or the app `source:` names. */
  app: string;
  fromPrimary: boolean;
  /** null: that app does not map it. */
  mapping: CompiledExpression | null;
}

function decisionsFor(table: MappingTable, primary: string): Decision[] {
  let list = table.byPrimary.get(primary);
  if (!list) {
    list = [];
    for (const [name, attribute] of table.attributes) {
      const app = attribute.source ?? primary;
      if (app === 'directory') continue; // directory-owned: filled in once the login is known
      list.push({ name, attribute, app, fromPrimary: app === primary, mapping: table.mappings.get(app)?.get(name) ?? null });
    }
    table.byPrimary.set(primary, list);
  }
  return list;
}

const tables = new WeakMap<Project, MappingTable>();

function tableOf(project: Project): MappingTable {
  let table = tables.get(project);
  if (!table) {
    const attributes = Object.entries(project.attributes);
    const mappings = new Map<string, Map<string, CompiledExpression>>();
    for (const app of Object.values(project.apps)) {
      if (app.import) mappings.set(app.name, new Map(app.import.mappings.map((m) => [m.attribute, m.expression])));
    }
    table = {
      attributes,
      owned: attributes.filter(([, a]) => a.source === 'directory'),
      required: attributes.filter(([n, a]) => a.required || n === 'login').map(([n]) => n),
      mappings,
      byPrimary: new Map(),
    };
    tables.set(project, table);
  }
  return table;
}

/**
 * `imported`: the stored records, to tell values edited outside idplane (the source did not change, the
 * stored value did); null when the config changed since the state was evaluated, so nothing is marked.
 */
export function mapUser(project: Project, user: SourcedUser, imported: DirectoryState['imported'] | null): MappedUser {
  const table = tableOf(project);
  if (user.declared) return { ...mapDeclared(project, table, user), outOfBand: NO_ATTRIBUTES };
  const stored = user.current?.profile ?? {};
  if (user.primary === 'directory') {
    const profile = { ...stored };
    addSetValues(project, table, user.current?.login, stored, profile);
    return { profile, issues: NO_ISSUES, outOfBand: NO_ATTRIBUTES };
  }

  const issues: PlanIssue[] = [];
  let outOfBand: Set<string> | null = null;
  const profile: Profile = {};
  let priors: Map<string, Record<string, string> | null> | null = null;
  /** The account's attributes as last imported (unpacked once per account, and only when a value differs). */
  const priorOf = (app: string, account: SourceAccount): Record<string, string> | null => {
    if (account.stored) return account.attributes;
    let prior = (priors ??= new Map()).get(app);
    if (prior === undefined) {
      const records = imported?.get(app);
      const record = records?.records.get(account.key);
      priors.set(app, (prior = records && record ? recordAttributes(records, record) : null));
    }
    return prior;
  };
  // The variables of the primary's mappings, made once for all of them.
  const primaryAccount = user.accounts.get(user.primary);
  const primaryVars = primaryAccount ? { app: primaryAccount.attributes, source: user.primary } : null;
  for (const { name, attribute, app: deciding, fromPrimary, mapping } of decisionsFor(table, user.primary)) {
    const account = fromPrimary ? primaryAccount : user.accounts.get(deciding);
    if (!account || !mapping) {
      // login identifies the user: a source that does not map it leaves the stored login alone.
      if (name === 'login' && stored.login !== undefined) profile.login = stored.login;
      continue;
    }
    const vars = fromPrimary ? primaryVars! : { app: account.attributes, source: deciding };
    const value = evaluateMapping(vars, account, name, mapping, attribute, issues);
    if (value !== undefined) profile[name] = value;
    // The source said the same last time, yet the stored value differs: someone changed it out of band.
    const sameDecider = attribute.source !== undefined || user.current?.profileSource === user.primary;
    if (!imported || !user.current || !sameDecider || sameValue(stored[name], value)) continue;
    const prior = priorOf(deciding, account);
    if (prior && sameValue(previousValue(mapping, prior, deciding, attribute), value)) (outOfBand ??= new Set()).add(name);
  }
  if (table.owned.length > 0) {
    const login = typeof profile.login === 'string' ? profile.login : user.current?.login;
    addSetValues(project, table, login, stored, profile);
  }
  requireAttributes(table, user, profile, issues);
  return { profile, issues: issues.length > 0 ? issues : NO_ISSUES, outOfBand: outOfBand ?? NO_ATTRIBUTES };
}

/** Directory-owned attributes into `profile`: the stored values, overridden by `set:` entries in the config. */
function addSetValues(project: Project, table: MappingTable, login: string | undefined, stored: Profile, profile: Profile): void {
  const set = login && project.setValues.size > 0 ? project.setValues.get(login.toLowerCase())?.attributes : undefined;
  for (const [name, attribute] of table.owned) {
    if (set && name in set) {
      const converted = convert(set[name], attribute);
      if (converted.ok && converted.value !== undefined) profile[name] = converted.value;
    } else if (stored[name] !== undefined) {
      profile[name] = stored[name]!;
    }
  }
}

function previousValue(expression: CompiledExpression, attributes: Record<string, string>, app: string, attribute: AttributeConfig): ProfileValue | undefined {
  try {
    const converted = convert(expression.evaluate({ app: attributes, source: app }), attribute);
    return converted.ok ? converted.value : undefined;
  } catch {
    return undefined;
  }
}

function mapDeclared(project: Project, table: MappingTable, user: SourcedUser): Omit<MappedUser, 'outOfBand'> {
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
  requireAttributes(table, user, profile, issues);
  return { profile, issues };
}

function evaluateMapping(
  vars: { app: Record<string, string>; source: string },
  account: SourceAccount,
  name: string,
  expression: CompiledExpression,
  attribute: AttributeConfig,
  issues: PlanIssue[],
): ProfileValue | undefined {
  const app = vars.source;
  let raw: unknown;
  try {
    raw = expression.evaluate(vars);
  } catch (error) {
    const message = error instanceof ExpressionError ? error.message : String(error);
    issues.push({ code: 'expression-error', app, key: account.key, line: account.line, attribute: name, message: `mapping for ${name} (${expression.text}) failed: ${message}` });
    return undefined;
  }
  // The common case, a string for a string attribute, without the conversion's result object.
  if (typeof raw === 'string' && (attribute.type === undefined || attribute.type === 'string')) return raw === '' ? undefined : raw;
  const converted = convert(raw, attribute);
  if (converted.ok) return converted.value;
  issues.push({ code: 'invalid-value', app, key: account.key, line: account.line, attribute: name, message: `mapping for ${name} gave a value that ${converted.reason}` });
  return undefined;
}

function requireAttributes(table: MappingTable, user: SourcedUser, profile: Profile, issues: PlanIssue[]): void {
  for (const name of table.required) {
    if (profile[name] === undefined) {
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

/**
 * What decides each attribute of a user with this primary source: the app (the primary, or the app
 * `source:` names), and its mapping (null when that app does not map it). `source: directory`
 * attributes are left out. For `explain`; mapUser uses the same table.
 */
export function attributeDecisions(project: Project, primary: string): { name: string; app: string; fromPrimary: boolean; mapping: CompiledExpression | null }[] {
  return decisionsFor(tableOf(project), primary).map(({ name, app, fromPrimary, mapping }) => ({ name, app, fromPrimary, mapping }));
}
