/**
 * Semantic checks the JSON Schema cannot express, and the compiled Project they produce: apps named in
 * profileSources, sourcing, links and set: must exist; mappings, match rules and set: must name declared
 * attributes; every CEL expression must compile (the problem points inside the expression); a match rule
 * has exactly one form. Pure: it reads the loaded config and reports through `at`.
 */
import { isSensitive } from '../../reconciler/sensitivity.ts';
import type { AppConfig, IdplaneConfig, MatchRule } from '../../schemas/generated/config.ts';
import { pipelineFingerprint } from '../../reconciler/fingerprint.ts';
import { compileExpression, compilePolicyExpression, type CompiledExpression } from '../../reconciler/expressions.ts';
import { CHANGE_FIELDS, USER_FIELDS } from '../../reconciler/policies.ts';
import { compileMatchRule, type CompiledMatchRule } from '../../reconciler/match-rules.ts';
import type { CompiledApp, CompiledPolicy, Project } from '../../reconciler/model.ts';
import { DEFAULT_SAFEGUARDS } from '../../reconciler/safeguards.ts';
import type { LoadedConfig } from './load.ts';
import { compileProvision } from './provision.ts';
import { checkProviderApps } from './provider-checks.ts';
import { checkServe } from './serve-checks.ts';
import { closest, toPointer, type At } from './problems.ts';

/** The default import.disabled of an Active Directory app: the userAccountControl ACCOUNTDISABLE bit. */
export const AD_DISABLED = 'int(app.userAccountControl) / 2 % 2 == 1';

export function checkSemantics(config: IdplaneConfig, loaded: LoadedConfig, at: At, warn: (pointer: string, message: string) => void = () => {}): Project | null {
  const attributes = config.directory.attributes;
  const attributeNames = Object.keys(attributes);
  const apps = config.apps;
  const importApps = Object.keys(apps).filter((name) => apps[name]!.import);
  const unknownAttribute = (name: string) => {
    const near = hint(name, attributeNames);
    return `${JSON.stringify(name)} is not a directory attribute${near || `; declare it under directory.attributes (${name}: { type: string })`}`;
  };

  const countBy = config.plan?.countBy;
  if (countBy !== undefined) {
    if (!own(attributes, countBy)) at(toPointer(['plan', 'countBy']), unknownAttribute(countBy));
    else if (isSensitive(countBy, own(attributes, countBy)!)) at(toPointer(['plan', 'countBy']), `${JSON.stringify(countBy)} holds personal data (${own(attributes, countBy)!.sensitive === true ? 'the config marks it sensitive' : 'every attribute outside a few organisational ones does, unless the config says sensitive: false'}), which a pull request's comment must not count by; name one such as department`);
  }

  const profileSources = config.profileSources ?? importApps;
  config.profileSources?.forEach((app, i) => {
    if (!own(apps, app)) at(toPointer(['profileSources', i]), `unknown app ${JSON.stringify(app)}${hint(app, Object.keys(apps))}`);
    else if (!own(apps, app)!.import) at(toPointer(['profileSources', i]), `app ${JSON.stringify(app)} has no import: section, so it cannot be a profile source`);
  });
  if (config.profileSources) {
    for (const app of importApps) {
      if (!config.profileSources.includes(app)) at(toPointer(['apps', app, 'import']), `app ${JSON.stringify(app)} imports users but is not listed in profileSources; add it where it belongs in the priority order`, true);
    }
  }
  for (const [name, attribute] of Object.entries(attributes)) {
    const source = attribute.source;
    if (source && source !== 'directory' && !own(apps, source)?.import) {
      at(toPointer(['directory', 'attributes', name, 'source']), `source ${JSON.stringify(source)} must be "directory" or an app with an import: section${hint(source, ['directory', ...importApps])}`);
    } else if (source && source !== 'directory' && !own(own(apps, source)!.import!.mappings, name)) {
      at(toPointer(['directory', 'attributes', name, 'source']), `attribute ${name} is sourced from ${source}, but ${source} has no mapping for ${name}`);
    }
  }
  const logins = new Map<string, number>();
  (config.users ?? []).forEach((user, i) => {
    const seen = logins.get(user.login.toLowerCase());
    if (seen !== undefined) at(toPointer(['users', i, 'login']), `declared user ${user.login} is declared twice (also users[${seen}])`);
    logins.set(user.login.toLowerCase(), i);
    for (const name of Object.keys(user.profile ?? {})) {
      if (!own(attributes, name)) at(toPointer(['users', i, 'profile', name]), unknownAttribute(name), true);
    }
  });
  (config.links ?? []).forEach((link, i) => {
    if (!own(apps, link.app)) at(toPointer(['links', i, 'app']), `unknown app ${JSON.stringify(link.app)}${hint(link.app, Object.keys(apps))}`);
    // A pin applies where accounts are imported and matched; a target's accounts are linked by its provision.match.
    else if (!apps[link.app]!.import) warn(toPointer(['links', i, 'app']), `links: pins ${link.app}/${link.key}, but ${link.app} has no import: section, so the entry is never used; a target's accounts are linked by its provision.match`);
  });

  const compiled: Record<string, CompiledApp> = {};
  for (const [name, app] of Object.entries(apps)) {
    const imp = app.import;
    const compile = (pointer: (string | number)[], text: string): CompiledExpression | null => {
      const outcome = compileExpression(text);
      if (outcome.ok) return outcome.expression;
      const p = toPointer(pointer);
      // The problem points inside the expression, not at the start of its scalar.
      const place = loaded.locateInScalar(p, outcome.offset);
      at(p, `CEL expression does not compile at column ${place.col}: ${outcome.message}`, false, place);
      return null;
    };
    const mappings = [];
    for (const [attribute, text] of Object.entries(imp?.mappings ?? {})) {
      if (!own(attributes, attribute)) at(toPointer(['apps', name, 'import', 'mappings', attribute]), unknownAttribute(attribute), true);
      else if (attributes[attribute]!.source === 'directory') {
        warn(toPointer(['apps', name, 'import', 'mappings', attribute]), `${name} maps ${attribute}, but ${attribute} is declared source: directory (set in the directory, never by an import), so this mapping is ignored; remove it, or drop source: directory to let ${name} source it`);
      }
      const expression = compile(['apps', name, 'import', 'mappings', attribute], text);
      if (expression) mappings.push({ attribute, expression });
    }
    const match: CompiledMatchRule[] = [];
    (imp?.match ?? []).forEach((rule, i) => {
      const pointer = ['apps', name, 'import', 'match', i];
      const compiledRule = checkMatchRule(rule, pointer, `${name}#${i}`, { at, compile, known: (a) => Boolean(own(attributes, a)), unknownAttribute });
      if (compiledRule) match.push(compiledRule);
    });
    // Every user has a login: an import that creates users must say where theirs comes from.
    if (imp && (imp.onNoMatch ?? 'create') === 'create' && !own(imp.mappings, 'login')) {
      at(toPointer(['apps', name, 'import', 'mappings']), `${name} creates users (onNoMatch: create) but maps no login, which every user needs: add login: app.<column> (the work email, say), or set onNoMatch: review or ignore`);
    }
    if (imp?.mode === 'incremental' && !imp.watermark) {
      at(toPointer(['apps', name, 'import', 'mode']), `an incremental import needs import.watermark: the column that marks changed rows`);
    }
    if (imp?.watermark && imp.mode !== 'incremental') {
      at(toPointer(['apps', name, 'import', 'watermark']), `watermark only applies to mode: incremental`, true);
    }
    // Active Directory: unless import.disabled says otherwise, an account is disabled when its
    // userAccountControl has the ACCOUNTDISABLE bit (2) set (the ldap reader always reads userAccountControl).
    const disabledText = imp?.disabled ?? (app.provider === 'ldap' && app.connection.flavor === 'ad' ? AD_DISABLED : undefined);
    const disabled = imp && disabledText ? compile(imp.disabled ? ['apps', name, 'import', 'disabled'] : ['apps', name, 'import'], disabledText) : null;
    const provision = compileProvision({ name, app, key: app.key ?? defaultKey(app), attributes, profileSources, at, warn, compile });
    compiled[name] = {
      name, config: app, key: app.key ?? defaultKey(app), provision,
      import: imp ? {
        mode: imp.mode ?? 'full', watermark: imp.watermark ?? null, match, onMatch: imp.onMatch ?? 'link', onNoMatch: imp.onNoMatch ?? 'create',
        newUserStatus: imp.newUserStatus ?? 'STAGED', disabled, onDisabled: imp.onDisabled ?? 'deactivate', onMissing: imp.onMissing ?? 'deactivate',
        reactivate: { suspended: imp.reactivate?.suspended ?? true, deactivated: imp.reactivate?.deactivated ?? false },
        mappings,
      } : null,
    };
  }
  const state = config.state;
  if (state?.backend === 'postgres' && !state.url) at('/state', 'the postgres backend needs state.url, for example url: ${env:IDPLANE_STATE_URL}');
  if (state?.backend !== 'postgres' && (state?.url || state?.schema)) at('/state', 'state.url and state.schema only apply to backend: postgres');
  if (state?.backend === 'postgres' && state.path) at('/state/path', 'state.path only applies to the embedded backend', true);
  Object.keys(config.safeguards?.apps ?? {}).forEach((app) => {
    if (!own(apps, app)) at(toPointer(['safeguards', 'apps', app]), `unknown app ${JSON.stringify(app)}${hint(app, Object.keys(apps))}`, true);
  });
  const setValues: Project['setValues'] = new Map();
  (config.set ?? []).forEach((entry, i) => {
    for (const attribute of Object.keys(entry.attributes ?? {})) {
      const pointer = toPointer(['set', i, 'attributes', attribute]);
      if (!own(attributes, attribute)) at(pointer, unknownAttribute(attribute), true);
      else if (attributes[attribute]!.source !== 'directory') at(pointer, `${attribute} is sourced by an app, so it is read-only in the directory; only attributes with source: directory can be set here`, true);
    }
    const login = entry.user.toLowerCase();
    const prior = setValues.get(login);
    const roles = entry.roles ?? prior?.roles;
    setValues.set(login, { attributes: { ...prior?.attributes, ...entry.attributes }, ...(roles ? { roles } : {}) });
  });
  const policies = compilePolicies(config, loaded, at, attributeNames);
  checkServe(config, at);
  checkProviderApps(config, at, warn);
  return {
    attributes, protectRoles: [...new Set(['super_admin', ...(config.directory.protect?.roles ?? [])])], declaredUsers: config.users ?? [],
    profileSources, links: config.links ?? [], apps: compiled,
    safeguards: config.safeguards ?? DEFAULT_SAFEGUARDS,
    policies,
    setValues,
    pipelineFingerprint: pipelineFingerprint(config),
  };
}

/**
 * Plan policies: unique names; `when` compiles, and every field it names literally exists (`change.X`
 * one of CHANGE_FIELDS; `user.X` and `before.X` a directory attribute, login, status or roles), each
 * problem at its place inside the expression.
 */
function compilePolicies(config: IdplaneConfig, loaded: LoadedConfig, at: At, attributeNames: string[]): CompiledPolicy[] {
  const out: CompiledPolicy[] = [];
  const names = new Map<string, number>();
  (config.policies ?? []).forEach((policy, i) => {
    const seen = names.get(policy.name);
    if (seen !== undefined) at(toPointer(['policies', i, 'name']), `policy ${policy.name} is defined twice (also policies[${seen}])`);
    names.set(policy.name, i);
    const pointer = toPointer(['policies', i, 'when']);
    const outcome = compilePolicyExpression(policy.when);
    if (!outcome.ok) {
      const place = loaded.locateInScalar(pointer, outcome.offset);
      at(pointer, `CEL expression does not compile at column ${place.col}: ${outcome.message}`, false, place);
      return;
    }
    const known = { change: [...CHANGE_FIELDS] as string[], user: [...attributeNames, ...USER_FIELDS], before: [...attributeNames, ...USER_FIELDS] };
    let ok = true;
    for (const variable of ['change', 'user', 'before'] as const) {
      for (const field of outcome.expression.fields[variable]) {
        if (known[variable].includes(field.name)) continue;
        const place = loaded.locateInScalar(pointer, field.start);
        const what = variable === 'change' ? `a change has no field ${JSON.stringify(field.name)} (it has ${CHANGE_FIELDS.join(', ')})` : `${JSON.stringify(field.name)} is not a directory attribute, nor login, status or roles`;
        at(pointer, `${variable}.${field.name} at column ${place.col}: ${what}${hint(field.name, known[variable])}`, false, place);
        ok = false;
      }
    }
    if (ok) out.push({ name: policy.name, ...(policy.description ? { description: policy.description } : {}), max: policy.max ?? 0, when: outcome.expression });
  });
  return out;
}

interface RuleContext {
  at: At;
  compile: (pointer: (string | number)[], text: string) => CompiledExpression | null;
  known: (attribute: string) => boolean;
  unknownAttribute: (attribute: string) => string;
}

/** A rule has exactly one form (pair, all, expression); its attributes exist; its expressions compile. */
function checkMatchRule(rule: MatchRule, pointer: (string | number)[], id: string, ctx: RuleContext): CompiledMatchRule | null {
  const forms = [rule.app !== undefined || rule.user !== undefined ? 'app/user' : null, rule.all ? 'all' : null, rule.expression ? 'expression' : null].filter(Boolean);
  if (forms.length !== 1) {
    ctx.at(toPointer(pointer), forms.length === 0
      ? 'a match rule needs one form: app + user (a pair), all: [pairs], or expression: { app, user }'
      : `a match rule has one form, but this one mixes ${forms.join(' and ')}`);
    return null;
  }
  if (rule.expression) {
    const app = ctx.compile([...pointer, 'expression', 'app'], rule.expression.app);
    const user = ctx.compile([...pointer, 'expression', 'user'], rule.expression.user);
    return app && user ? compileMatchRule(rule, id, { app, user }) : null;
  }
  if (!rule.all && (rule.app === undefined || rule.user === undefined)) {
    ctx.at(toPointer(pointer), `a pair rule needs both app and user`);
    return null;
  }
  const pairs = rule.all ? rule.all.map((p, i) => ({ p, at: [...pointer, 'all', i, 'user'] })) : [{ p: { app: rule.app!, user: rule.user! }, at: [...pointer, 'user'] }];
  let ok = true;
  for (const { p, at } of pairs) {
    if (!ctx.known(p.user)) {
      ctx.at(toPointer(at), ctx.unknownAttribute(p.user));
      ok = false;
    }
  }
  return ok ? compileMatchRule(rule, id) : null;
}

/** Own keys only: a config naming "constructor" or "toString" must not find Object.prototype's. */
function own<T>(record: Record<string, T>, name: string): T | undefined {
  return Object.hasOwn(record, name) ? record[name] : undefined;
}

function hint(word: string, candidates: string[]): string {
  const best = closest(word, candidates);
  return best ? `; did you mean ${JSON.stringify(best)}?` : '';
}

/** The account key when the config names none: csv `id`, ldap `uid`, scim `userName`, http `id`, okta `profile.login`. */
function defaultKey(app: AppConfig): string {
  switch (app.provider) {
    case 'csv': return 'id';
    case 'ldap': return 'uid';
    case 'scim': return 'userName';
    case 'http': return 'id';
    case 'okta': return 'profile.login';
    default: {
      const never: never = app;
      throw new Error(`unknown provider ${JSON.stringify(never)}`);
    }
  }
}
