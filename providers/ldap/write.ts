/**
 * LDAP target: applies a plan's account changes to OpenLDAP or Active Directory.
 *
 * Contract (one bind for the whole target; changes run with bounded concurrency; each gets a ChangeResult)
 *   Every change first finds its entry by the key attribute: (&<connection.filter>(<key>=<escaped key>))
 *   under baseDN. More than one entry with the key fails the change.
 *   - create: adds the entry at the plan's `dn` with objectClass (provision.objectClasses, default
 *     inetOrgPerson; top/person/organizationalPerson/user for ad), the key, the mapped values and, when
 *     provision.status is set, its enabled value. An entry with the key already there (a re-run after a
 *     crash between create and record) is `done` when it holds the planned values, else `skipped`.
 *   - update / enable / disable: compare-and-set: an attribute whose live value (first value; '' when
 *     absent) is neither the plan's `from` nor its `to` moved since the plan, and the change is `skipped`,
 *     nothing written. Otherwise, when the plan's `dn` differs from the entry's DN, the entry is renamed
 *     and/or moved first (modifyDN, old RDN value removed); then one modify replaces only the attributes
 *     whose value differs from `to` (an empty `to` deletes the attribute). disable/enable set the
 *     provision.status attribute to its disabled/enabled value or, for ad without provision.status, set
 *     or clear the ACCOUNTDISABLE bit (2) of the entry's current userAccountControl. Nothing else is
 *     touched: unmapped attributes survive. A change already in place is `done`.
 *   - delete: deletes the entry (planned only when provision.delete is on).
 *   - link: `done` when the entry exists, else `failed`.
 *   A change whose entry is gone fails; an LDAP error fails that change with the server's reason. A
 *   target that cannot be reached or bound throws (the caller fails all its changes with the reason).
 *   Connection losses (../retry.ts policy): a change that lost its connection (the server stopped,
 *   reset, timed out, or said busy) reconnects, binds again and is tried again whole, from its search,
 *   up to connection.retries times; so an entry added before the answer was lost is found, not added
 *   twice. After connection.breakAfter losses in a row the circuit opens and the remaining changes fail
 *   at once with one message.
 */
import { Attribute, Change, type Client, type Entry } from 'ldapts';
import type { AccountChange } from '../../schemas/generated/plan.ts';
import type { LdapApp } from '../../schemas/generated/config.ts';
import { escapeFilterValue, parseDn, sameDn } from '../../reconciler/ldap-escape.ts';
import type { ChangeResult } from '../csv/write.ts';
import { ProviderError } from '../errors.ts';
import { CircuitBreaker, type RetryPolicy } from '../retry.ts';
import { closeLdap, connectLdap, isConnectionLoss, ldapError, ldapFilter, retryPolicyFor, type LdapEndpoint } from './connection.ts';
import { DEFAULT_FILTER } from './read.ts';

export interface LdapWriteOptions {
  app: string;
  config: LdapApp;
  key: string;
  /** The config's folder (tls.ca is relative to it). */
  dir: string;
  /** Operations in flight at once. Default 8. */
  concurrency?: number;
}

const ACCOUNTDISABLE = 2;

/** The target's connection: one bound client, replaced by a new one when a change finds it broken. */
class Session {
  private current: Promise<Client>;
  private generation = 0;
  private readonly opened: Promise<Client>[] = [];

  private readonly endpoint: LdapEndpoint;
  private readonly policy: RetryPolicy;

  constructor(endpoint: LdapEndpoint, policy: RetryPolicy) {
    this.endpoint = endpoint;
    this.policy = policy;
    this.current = this.open();
  }

  private open(): Promise<Client> {
    const client = connectLdap(this.endpoint, this.policy);
    client.catch(() => {}); // awaited by the changes that use it
    this.opened.push(client);
    return client;
  }

  /** The current connection's number, for broken(). */
  get now(): number {
    return this.generation;
  }

  client(): Promise<Client> {
    return this.current;
  }

  /** The client of `generation` lost its connection: the next change connects again (once, whoever asks first). */
  broken(generation: number): void {
    if (generation !== this.generation) return;
    this.generation++;
    this.current = this.open();
  }

  async close(): Promise<void> {
    for (const opening of this.opened) {
      try {
        await closeLdap(await opening);
      } catch {
        // It never connected: nothing to close.
      }
    }
  }
}

export async function applyLdapTarget(options: LdapWriteOptions, changes: AccountChange[]): Promise<ChangeResult[]> {
  const connection = options.config.connection;
  const policy = retryPolicyFor(connection);
  const breaker = new CircuitBreaker(options.app, connection.breakAfter ?? 25);
  const session = new Session({ app: options.app, connection, dir: options.dir }, policy);
  try {
    await session.client(); // a target that cannot be reached or bound at all throws, as before
    const results: ChangeResult[] = new Array<ChangeResult>(changes.length);
    let next = 0;
    const worker = async () => {
      while (next < changes.length) {
        const i = next++;
        results[i] = await applyWithRetries(session, policy, breaker, options, changes[i]!);
      }
    };
    await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 8, changes.length) }, worker));
    return results;
  } finally {
    await session.close();
  }
}

/** A connection loss inside a change: the change is tried again on a new connection. */
class Lost extends Error {}

async function applyWithRetries(session: Session, policy: RetryPolicy, breaker: CircuitBreaker, options: LdapWriteOptions, change: AccountChange): Promise<ChangeResult> {
  const failed = (message: string): ChangeResult => ({ app: options.app, key: change.key, action: change.action, outcome: 'failed', message });
  for (let attempt = 0; ; attempt++) {
    if (breaker.reason !== null) return failed(breaker.reason);
    const generation = session.now;
    let outcome: ChangeResult | Lost;
    try {
      outcome = await applyOne(await session.client(), options, change);
    } catch (error) {
      // Connecting again failed (openLdap's ProviderError names the app first; the result names it already).
      const message = error instanceof ProviderError ? error.message.slice(options.app.length + 2) : ldapError(error, options.config.connection.password);
      outcome = new Lost(message);
    }
    if (!(outcome instanceof Lost)) {
      breaker.success();
      return outcome;
    }
    breaker.failure(outcome.message);
    session.broken(generation);
    if (breaker.reason !== null) return failed(breaker.reason);
    if (!policy.canRetry(attempt)) return failed(`${outcome.message}${attempt > 0 ? ` (${attempt + 1} attempts, each on a new connection, from the search)` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, policy.delay(attempt + 1)));
  }
}

async function applyOne(client: Client, options: LdapWriteOptions, change: AccountChange): Promise<ChangeResult | Lost> {
  const result = (outcome: ChangeResult['outcome'], message?: string): ChangeResult =>
    ({ app: options.app, key: change.key, action: change.action, outcome, ...(message ? { message } : {}) });
  const password = options.config.connection.password;
  try {
    const found = await findByKey(client, options, change);
    if (found.length > 1) return result('failed', `${found.length} entries have ${options.key}=${change.key} (${found.map((e) => e.dn).join('; ')}); idplane never guesses`);
    const entry = found[0];
    if (change.action === 'create') return entry ? alreadyThere(entry, change, result) : await create(client, options, change, result);
    if (!entry) return result('failed', `no entry with ${options.key}=${change.key} under ${options.config.connection.baseDN} any more`);
    if (change.action === 'link') return result('done');
    if (change.action === 'delete') {
      await client.del(entry.dn);
      return result('done');
    }
    return await modify(client, options, change, entry, result);
  } catch (error) {
    if (isConnectionLoss(error)) return new Lost(ldapError(error, password));
    return result('failed', ldapError(error, password));
  }
}

type Result = (outcome: ChangeResult['outcome'], message?: string) => ChangeResult;

/** The attributes a change needs to look at, in the config's spelling. */
function attributesOf(options: LdapWriteOptions, change: AccountChange): string[] {
  const p = options.config.provision;
  const names = [options.key, ...Object.keys(change.attributes)];
  if (p?.status) names.push(p.status.attribute);
  else if (options.config.connection.flavor === 'ad') names.push('userAccountControl');
  if (p?.dn) names.push(p.dn.rdn);
  return [...new Set(names)];
}

async function findByKey(client: Client, options: LdapWriteOptions, change: AccountChange): Promise<Entry[]> {
  const connection = options.config.connection;
  const base = (connection.filter ?? DEFAULT_FILTER[connection.flavor ?? 'openldap']).trim();
  const filter = `(&${base.startsWith('(') ? base : `(${base})`}(${options.key}=${escapeFilterValue(change.key)}))`;
  const { searchEntries } = await client.search(connection.baseDN, { scope: connection.scope ?? 'sub', filter: ldapFilter(filter), attributes: attributesOf(options, change) });
  return searchEntries;
}

/** The first value of an attribute, matched case-insensitively; '' when the entry has none. */
function valueOf(entry: Entry, attribute: string): string {
  const lower = attribute.toLowerCase();
  for (const [name, raw] of Object.entries(entry)) {
    if (name === 'dn' || name.toLowerCase() !== lower) continue;
    const first: unknown = Array.isArray(raw) ? raw[0] : raw;
    if (first === undefined) return '';
    return Buffer.isBuffer(first) ? first.toString('hex') : String(first);
  }
  return '';
}

function alreadyThere(entry: Entry, change: AccountChange, result: Result): ChangeResult {
  const differs = Object.entries(change.attributes).filter(([name, v]) => valueOf(entry, name) !== (v.to ?? ''));
  if (differs.length === 0) return result('done', `already created (${entry.dn})`);
  return result('skipped', `an entry with key ${change.key} already exists (${entry.dn}) with other values for ${differs.map(([n]) => n).join(', ')}; the next plan links it`);
}

async function create(client: Client, options: LdapWriteOptions, change: AccountChange, result: Result): Promise<ChangeResult> {
  if (!change.dn) return result('failed', 'the plan has no dn for this entry (provision.dn is needed to create ldap entries); plan again');
  const config = options.config;
  const flavor = config.connection.flavor ?? 'openldap';
  const attributes: Record<string, string[]> = {
    objectClass: config.provision?.objectClasses ?? (flavor === 'ad' ? ['top', 'person', 'organizationalPerson', 'user'] : ['inetOrgPerson']),
  };
  const set = (name: string, value: string) => {
    const existing = Object.keys(attributes).find((n) => n.toLowerCase() === name.toLowerCase());
    attributes[existing ?? name] = [value];
  };
  for (const [name, v] of Object.entries(change.attributes)) if (v.to) set(name, v.to);
  set(options.key, change.key);
  const status = config.provision?.status;
  if (status) set(status.attribute, status.enabled ?? 'true');
  try {
    await client.add(change.dn, attributes);
  } catch (error) {
    if ((error as { code?: number }).code === 68) return result('failed', `an entry already exists at ${change.dn} (with another ${options.key}); not overwritten`);
    throw error;
  }
  return result('done');
}

async function modify(client: Client, options: LdapWriteOptions, change: AccountChange, entry: Entry, result: Result): Promise<ChangeResult> {
  const moved = Object.entries(change.attributes).filter(([name, v]) => {
    const now = valueOf(entry, name);
    return now !== (v.from ?? '') && now !== (v.to ?? '');
  });
  if (moved.length > 0) {
    return result('skipped', `changed in ${options.app} since the plan: ${moved.map(([n]) => n).join(', ')}; not overwritten (plan again)`);
  }
  let dn = entry.dn;
  let renamedTo: { attribute: string; value: string } | null = null;
  if (change.dn && !sameDn(change.dn, entry.dn)) {
    // ldapts splits the new DN at its first unescaped comma into the new RDN and the new superior.
    await client.modifyDN(entry.dn, change.dn);
    dn = change.dn;
    const rdn = parseDn(change.dn)[0]?.[0];
    if (rdn) renamedTo = { attribute: rdn.type.toLowerCase(), value: rdn.value };
  }
  const changes: Change[] = [];
  for (const [name, v] of Object.entries(change.attributes)) {
    const to = v.to ?? '';
    let now = valueOf(entry, name);
    if (renamedTo && renamedTo.attribute === name.toLowerCase()) now = renamedTo.value;
    if (now === to) continue;
    changes.push(to === ''
      ? new Change({ operation: 'delete', modification: new Attribute({ type: name, values: [] }) })
      : new Change({ operation: 'replace', modification: new Attribute({ type: name, values: [to] }) }));
  }
  if (change.action === 'disable' || change.action === 'enable') {
    const status = statusChange(options, change.action, entry);
    if (status) changes.push(status);
  }
  if (changes.length > 0) await client.modify(dn, changes);
  return result('done', changes.length === 0 && dn === entry.dn ? 'already in place' : undefined);
}

function statusChange(options: LdapWriteOptions, action: 'disable' | 'enable', entry: Entry): Change | null {
  const status = options.config.provision?.status;
  if (status) {
    const value = action === 'disable' ? status.disabled ?? 'false' : status.enabled ?? 'true';
    if (valueOf(entry, status.attribute) === value) return null;
    return new Change({ operation: 'replace', modification: new Attribute({ type: status.attribute, values: [value] }) });
  }
  if (options.config.connection.flavor !== 'ad') return null;
  const current = Number.parseInt(valueOf(entry, 'userAccountControl'), 10);
  if (Number.isNaN(current)) throw new Error(`${entry.dn} has no readable userAccountControl, so it cannot be ${action}d`);
  const next = action === 'disable' ? current | ACCOUNTDISABLE : current & ~ACCOUNTDISABLE;
  if (next === current) return null;
  return new Change({ operation: 'replace', modification: new Attribute({ type: 'userAccountControl', values: [String(next)] }) });
}
