/**
 * Semantic checks and compilation of an app's `provision:` section, and the write-back hazard warnings
 * of the profile-sourcing seed for an app that is both a profile source and a target:
 * - unwanted pushes: outbound attributes the app's own import never reads back (its changes to them
 *   would be overwritten);
 * - overwriting attributes another source owns: outbound values built from directory attributes that
 *   another app sources;
 * - races: outbound attributes the app itself sources (idplane never writes those, and compares every
 *   other write-back against the last imported value).
 * Each warning names the attributes involved.
 * ldap targets: provision.dn (needed to create entries) names a mapped RDN attribute and a parent DN
 * (CEL over user, compiled here); an OpenLDAP target that disables accounts must say how (provision.status),
 * since inetOrgPerson has no enabled flag; dn and objectClasses are refused for other providers.
 */
import type { AppConfig, AttributeConfig, ProvisionConfig } from '../../schemas/generated/config.ts';
import type { CompiledExpression } from '../../reconciler/expressions.ts';
import type { CompiledProvision } from '../../reconciler/model.ts';
import { importReads, userReferences } from '../../reconciler/app-references.ts';
import { closest, toPointer, type At } from './problems.ts';

export interface ProvisionContext {
  name: string;
  app: AppConfig;
  key: string;
  attributes: Record<string, AttributeConfig>;
  /** Import apps, highest priority first. */
  profileSources: string[];
  at: At;
  warn: (pointer: string, message: string) => void;
  compile: (pointer: (string | number)[], text: string) => CompiledExpression | null;
}

/** An app's provision: section; the http provider reads only, so it has none. */
export function provisionOf(app: AppConfig): ProvisionConfig | undefined {
  return app.provider === 'http' ? undefined : app.provision;
}

export function compileProvision(ctx: ProvisionContext): CompiledProvision | null {
  const p = provisionOf(ctx.app);
  if (!p) return null;
  const base = ['apps', ctx.name, 'provision'];
  if (!Object.hasOwn(p.mappings, ctx.key)) {
    // A mapping whose name is close to the key: the key is the likelier typo (it is written once).
    const hint = closest(ctx.key, Object.keys(p.mappings));
    const explicit = ctx.app.key !== undefined;
    if (hint && explicit) {
      ctx.at(toPointer(['apps', ctx.name, 'key']), `key ${JSON.stringify(ctx.key)} is not an attribute provision.mappings writes (it writes ${Object.keys(p.mappings).join(', ')}); did you mean ${JSON.stringify(hint)}? The key names each account ${ctx.name} creates, so provision.mappings must map it`);
    } else {
      ctx.at(toPointer([...base, 'mappings']), `provision.mappings must map the key ${JSON.stringify(ctx.key)}${explicit ? '' : ` (the default key of a ${ctx.app.provider} app; set key: to name another)`}: it names each account ${ctx.name} creates`);
    }
  }
  if (p.match && p.match.user !== 'login' && !Object.hasOwn(ctx.attributes, p.match.user)) {
    ctx.at(toPointer([...base, 'match', 'user']), `${JSON.stringify(p.match.user)} is not a directory attribute`);
  }
  const assign = typeof p.assign === 'string' ? ctx.compile([...base, 'assign'], p.assign) : null;
  if (p.assign === false) ctx.at(toPointer([...base, 'assign']), 'assign: false would disable every account; remove the provision: section instead');
  const mappings: CompiledProvision['mappings'] = [];
  for (const [attribute, spec] of Object.entries(p.mappings)) {
    const text = typeof spec === 'string' ? spec : spec.value;
    const pointer = typeof spec === 'string' ? [...base, 'mappings', attribute] : [...base, 'mappings', attribute, 'value'];
    const expression = ctx.compile(pointer, text);
    if (expression) mappings.push({ attribute, expression, on: typeof spec === 'string' ? 'always' : (spec.on ?? 'always') });
  }
  const dn = checkLdap(ctx, base);
  const sourced = ctx.app.import ? attributesReadByImport(ctx.app, ctx.key) : new Set<string>();
  if (ctx.app.import) writeBackWarnings(ctx, sourced);
  return {
    assign, create: p.create ?? true, update: p.update ?? true, deactivate: p.deactivate ?? true, delete: p.delete ?? false,
    match: p.match ?? null,
    status: { attribute: p.status?.attribute ?? 'active', enabled: p.status?.enabled ?? 'true', disabled: p.status?.disabled ?? 'false' },
    mappings,
    sourcedAttributes: sourced,
    ...(dn ? { dn } : {}),
  };
}

/** The ldap-only settings: checked, and dn.parent compiled. */
function checkLdap(ctx: ProvisionContext, base: string[]): CompiledProvision['dn'] | undefined {
  const app = ctx.app;
  const p = provisionOf(app)!;
  if (app.provider !== 'ldap') {
    if (p.dn) ctx.at(toPointer([...base, 'dn']), `provision.dn only applies to ldap apps; ${ctx.name} is ${app.provider}`, true);
    if (p.objectClasses) ctx.at(toPointer([...base, 'objectClasses']), `provision.objectClasses only applies to ldap apps; ${ctx.name} is ${app.provider}`, true);
    return undefined;
  }
  if (!p.dn && p.create !== false) {
    ctx.at(toPointer(base), `an ldap target that creates entries needs provision.dn: { rdn, parent }, e.g. { rdn: uid, parent: '"ou=people,dc=example,dc=com"' } (or create: false)`);
  }
  if (app.connection.flavor !== 'ad' && p.deactivate !== false && p.delete !== true && !p.status) {
    ctx.at(toPointer([...base, 'status']), `OpenLDAP has no standard enabled flag: set provision.status (e.g. { attribute: description, enabled: active, disabled: disabled }) to say how ${ctx.name} marks a disabled entry, or set deactivate: false`);
  }
  if (!p.dn) return undefined;
  if (!Object.hasOwn(p.mappings, p.dn.rdn) && p.dn.rdn !== ctx.key) {
    ctx.at(toPointer([...base, 'dn', 'rdn']), `the RDN attribute ${JSON.stringify(p.dn.rdn)} must be mapped in provision.mappings: its value names the entry`);
  }
  const parent = ctx.compile([...base, 'dn', 'parent'], p.dn.parent);
  return parent ? { rdn: p.dn.rdn, parent } : undefined;
}

/** App attributes the app's import reads: its key, mapping and disabled expressions, match rules, watermark. */
function attributesReadByImport(app: AppConfig, key: string): Set<string> {
  return new Set<string>([key, ...importReads(app.import)]);
}

function writeBackWarnings(ctx: ProvisionContext, sourced: Set<string>): void {
  const p = provisionOf(ctx.app)!;
  const pointer = toPointer(['apps', ctx.name, 'provision', 'mappings']);
  const outbound = Object.keys(p.mappings).filter((a) => a !== ctx.key);
  const races = outbound.filter((a) => sourced.has(a));
  if (races.length > 0) {
    ctx.warn(pointer, `write-back race: ${ctx.name} is a profile source and sources ${races.join(', ')}, which provision.mappings also writes; idplane never writes attributes the app sources, so these mappings have no effect`);
  }
  const unread = outbound.filter((a) => !sourced.has(a));
  if (unread.length > 0) {
    ctx.warn(pointer, `write-back pushes ${unread.join(', ')} into ${ctx.name}, a profile source whose import never reads them back: changes made to them in ${ctx.name} are overwritten by the next push (each push is compare-and-set against the value last seen)`);
  }
  const foreign = new Map<string, string>();
  for (const spec of Object.values(p.mappings)) {
    for (const attribute of userReferences(typeof spec === 'string' ? spec : spec.value)) {
      const owner = ownerOf(ctx, attribute);
      if (owner && owner !== ctx.name) foreign.set(attribute, owner);
    }
  }
  if (foreign.size > 0) {
    const list = [...foreign].map(([a, o]) => `${a} (sourced by ${o})`).join(', ');
    ctx.warn(pointer, `write-back to ${ctx.name} pushes values built from attributes another source owns: ${list}; ${ctx.name}'s own copies of them are overwritten`);
  }
}

/** The app that sources a directory attribute for users whose primary source is this app's betters. */
function ownerOf(ctx: ProvisionContext, attribute: string): string | null {
  const declared = Object.hasOwn(ctx.attributes, attribute) ? ctx.attributes[attribute]!.source : undefined;
  if (declared) return declared === 'directory' ? null : declared;
  const rank = ctx.profileSources.indexOf(ctx.name);
  return rank > 0 ? ctx.profileSources[0]! : null;
}
