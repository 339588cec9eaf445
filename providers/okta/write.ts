/**
 * Okta provisioning target: applies a plan's account changes to an org through the Users API.
 * Contract (every change comes back with one ChangeResult: done, skipped or failed with the reason):
 * - Attributes are `profile.NAME` (./profile.ts): a change naming anything else fails, saying so. Values
 *   are typed by the org's user schema (read once per run; unreadable, they go as strings).
 * - create: the user is looked up first (./lookup.ts: by key, and by login, which is unique in an org), so a
 *   plan made before someone else created them, a crash, or a lost answer never makes a duplicate: found
 *   with the same key it is linked ("already existed; linked"). Else POST /api/v1/users?activate=true
 *   with the profile (idplane creates only accounts it wants enabled). Okta's duplicate-login refusal
 *   (400 E0000001 "… already exists …") looks the user up again and links them.
 * - update: compare-and-set. The live user is read first; an attribute whose value is neither the plan's
 *   `from` nor its `to` moved since the plan, and the change is skipped and reported, never forced. Only
 *   attributes that differ are sent: POST /api/v1/users/{id} with a partial profile (Okta's partial
 *   update; "" is sent as null, which clears the property). Okta updates no DEPROVISIONED user: one
 *   deactivated since the plan is skipped with that reason.
 * - enable / disable / delete: the lifecycle operations ./lifecycle.ts picks for the user's current status
 *   (activate with sendEmail=false, unsuspend, deactivate, DELETE after deactivate). A disable whose
 *   directory user is SUSPENDED (the change's userStatus) suspends an ACTIVE Okta user instead of
 *   deactivating them, so their app assignments survive a leave of absence. An enable pushes its
 *   attribute changes after the activation, a disable before the deactivation.
 * - A change that failed on a transient fault (a timeout, a lost connection, 429 after the transport's
 *   own retries honouring X-Rate-Limit-Reset, 500, 502, 503, 504, or 409 E0000112 "still being
 *   activated") is tried again whole after a backoff, up to connection.retries times, from its lookup:
 *   a write Okta carried out before its answer was lost is found, not sent twice. Once the app's circuit
 *   breaker opens, the remaining changes fail at once with its one message.
 * - Failures name the request, the HTTP status, Okta's errorCode, errorSummary and errorCauses; a user
 *   gone from the org (404) says so. Credentials never appear in a result.
 */
import type { OktaApp } from '../../schemas/generated/config.ts';
import type { AccountChange } from '../../schemas/generated/plan.ts';
import type { ChangeResult } from '../csv/write.ts';
import { HttpRequestError, isTransient, type HttpResponse } from '../http-client.ts';
import { forEachWithWorkers, type RetrySettings } from '../retry.ts';
import { openClient, type OktaClient } from './http.ts';
import { operationsFor, requestOf, type Goal } from './lifecycle.ts';
import { byLogin, lookup, valueOf, type Lookup } from './lookup.ts';
import type { OktaUser } from './list.ts';
import { effectiveStatus, flattenUser, OktaValueError, profileName, toWire, type PropertyShape, type WireValue } from './profile.ts';
import { readSchema } from './schema.ts';

export interface OktaWriteOptions {
  app: string;
  config: OktaApp;
  key: string;
  /** The retry policy's timings (tests shorten them). */
  retry?: Partial<RetrySettings>;
}

interface Context {
  app: string;
  client: OktaClient;
  key: string;
  /** Profile property shapes by name, read on first need. */
  shapes?: Promise<Map<string, PropertyShape>>;
}

/** Changes worked on at once per request slot: the others go on while some wait out a backoff. */
const CHANGES_PER_SLOT = 16;

export async function applyOktaTarget(options: OktaWriteOptions, changes: AccountChange[]): Promise<ChangeResult[]> {
  const client = openClient(options.app, options.config.connection, options.retry);
  const ctx: Context = { app: options.app, client, key: options.key };
  return forEachWithWorkers(changes, client.concurrency * CHANGES_PER_SLOT, (change) => applyOne(ctx, change));
}

/** Thrown inside a change for a transient failure, so that the change is tried again from its lookup. */
class Transient extends Error {}

/** A failure that ends the change with this message. */
class Refused extends Error {}

type Result = (outcome: ChangeResult['outcome'], message?: string) => ChangeResult;

/** What the earlier attempts of one change did. */
interface Attempts {
  /** The transient failure of the previous attempt, or null on the first. */
  retrying: string | null;
  /** Whether a create was sent (so a user found later may be idplane's own). */
  posted: boolean;
}

async function applyOne(ctx: Context, change: AccountChange): Promise<ChangeResult> {
  const { client } = ctx;
  const tried: string[] = [];
  const attempts: Attempts = { retrying: null, posted: false };
  for (let attempt = 0; ; attempt++) {
    attempts.retrying = tried.at(-1) ?? null;
    const outcome = await attemptOne(ctx, change, attempts);
    if (!(outcome instanceof Transient)) return outcome;
    tried.push(outcome.message);
    const fail = (message: string): ChangeResult => ({ app: ctx.app, key: change.key, action: change.action, outcome: 'failed', message: client.redact(message) });
    const stopped = client.breaker.reason;
    if (stopped !== null) return fail(stopped);
    if (!client.policy.canRetry(attempt)) return fail(`${outcome.message}${tried.length === 1 ? '' : ` (${tried.length} attempts, each started again from a lookup)`}`);
    await client.sleep(client.policy.delay(attempt + 1));
  }
}

async function attemptOne(ctx: Context, change: AccountChange, attempts: Attempts): Promise<ChangeResult | Transient> {
  const result: Result = (outcome, message) =>
    ({ app: ctx.app, key: change.key, action: change.action, outcome, ...(message ? { message: ctx.client.redact(message) } : {}) });
  try {
    switch (change.action) {
      case 'create': return await create(ctx, change, result, attempts);
      case 'update': return await mutate(ctx, change, result, null);
      case 'enable': return await mutate(ctx, change, result, 'enable');
      case 'disable': return await mutate(ctx, change, result, change.userStatus === 'SUSPENDED' ? 'suspend' : 'disable');
      case 'delete': return await remove(ctx, change, result);
      case 'link': {
        const found = await lookup(ctx.client, ctx.key, change.key);
        if (found.kind === 'found') return result('done');
        return result('failed', found.kind === 'refused' ? found.message : `the account is no longer in ${ctx.app}`);
      }
      default: {
        const never: never = change.action;
        return result('failed', `unknown action ${String(never)}`);
      }
    }
  } catch (error) {
    if (error instanceof Transient) return error;
    if (isTransient(error)) return new Transient((error as Error).message);
    if (error instanceof Refused || error instanceof HttpRequestError || error instanceof OktaValueError) return result('failed', error.message);
    return result('failed', `unexpected error: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** Okta's code for "the user is still being activated" (409): wait and try again. */
const STILL_ACTIVATING = 'E0000112';

/** The message of an error answer to a write; a transient one is thrown, so that the change is tried again. */
function refusal(ctx: Context, method: string, url: URL, response: HttpResponse): string {
  const failure = ctx.client.failure(method, url, response);
  if (isTransient(failure) || (response.status === 409 && failure.code === STILL_ACTIVATING)) throw new Transient(failure.message);
  return response.status === 404 ? `the user is no longer in ${ctx.app} (deleted outside idplane?): ${failure.message}` : failure.message;
}

async function send(ctx: Context, method: string, url: URL, body?: unknown): Promise<HttpResponse> {
  const response = await ctx.client.request(method, url, body === undefined ? {} : { body });
  if (response.status >= 200 && response.status < 300) return response;
  throw new Refused(refusal(ctx, method, url, response));
}

function shapes(ctx: Context): Promise<Map<string, PropertyShape>> {
  ctx.shapes ??= readSchema(ctx.client).then(
    (properties) => new Map(properties.map((p) => [p.name, p])),
    (error: unknown) => {
      if (isTransient(error)) {
        ctx.shapes = undefined;
        throw error;
      }
      return new Map(); // no schema access: values go as strings, and Okta says which it refuses
    },
  );
  return ctx.shapes;
}

/** The profile property of an attribute name, or a Refused naming what Okta takes. */
function propertyOf(attribute: string): string {
  const name = profileName(attribute);
  if (name === null) throw new Refused(`${attribute} is not an Okta profile attribute: provision.mappings for okta name profile.NAME (e.g. profile.${attribute.replace(/^.*\./, '') || 'firstName'})`);
  return name;
}

async function profileOf(ctx: Context, values: [attribute: string, value: string | null][]): Promise<Record<string, WireValue>> {
  const types = values.length > 0 ? await shapes(ctx) : new Map<string, PropertyShape>();
  const profile: Record<string, WireValue> = {};
  for (const [attribute, value] of values) {
    const name = propertyOf(attribute);
    profile[name] = toWire(name, value, types.get(name));
  }
  return profile;
}

async function create(ctx: Context, change: AccountChange, result: Result, attempts: Attempts): Promise<ChangeResult> {
  const { client } = ctx;
  if (ctx.key === 'id') throw new Refused(`${ctx.app}'s key is id, which Okta assigns: no user can be created under a given id (key the app by profile.login)`);
  const values: [string, string | null][] = [[ctx.key, change.key]];
  for (const [name, v] of Object.entries(change.attributes)) if (v.to !== null && v.to !== '') values.push([name, v.to]);
  const profile = await profileOf(ctx, values);
  const login = typeof profile.login === 'string' ? profile.login : '';
  if (login === '') throw new Refused('an Okta user needs profile.login: map it in provision.mappings');

  const { retrying } = attempts;
  const found = await findForCreate(ctx, change.key, login);
  if (found.kind === 'refused') return result('failed', retrying ? `${retrying}; then ${found.message}` : found.message);
  if (found.kind === 'found') return result('done', attempts.posted && retrying ? `created (confirmed by a lookup after: ${retrying})` : 'already existed; linked');

  const url = client.api('/users', { activate: 'true' });
  attempts.posted = true;
  const response = await client.request('POST', url, { body: { profile } });
  if (response.status >= 200 && response.status < 300) return result('done');
  const message = refusal(ctx, 'POST', url, response);
  if (response.status === 400 && /\blogin: An object with this field already exists/i.test(message)) {
    const again = await findForCreate(ctx, change.key, login);
    if (again.kind === 'found') return result('done', 'already existed; linked');
    return result('failed', `${message}; ${again.kind === 'refused' ? again.message : `no user with ${ctx.key} ${JSON.stringify(change.key)} could be found to link`}`);
  }
  return result('failed', message);
}

/** The user a create would make, if they exist: by key, then by login (see ./lookup.ts). */
async function findForCreate(ctx: Context, key: string, login: string): Promise<Lookup> {
  const byKey = await lookup(ctx.client, ctx.key, key);
  if (byKey.kind !== 'none' || ctx.key === 'profile.login') return byKey;
  const other = await byLogin(ctx.client, login);
  if (other.kind !== 'found') return other;
  const value = valueOf(other.user, ctx.key);
  if (value === key) return other;
  return { kind: 'refused', message: `${ctx.app} already has login ${JSON.stringify(login)} (user ${other.user.id}), whose ${ctx.key} is ${JSON.stringify(value)}, not ${JSON.stringify(key)}; not linked under another key` };
}

async function found(ctx: Context, change: AccountChange): Promise<OktaUser> {
  const live = await lookup(ctx.client, ctx.key, change.key);
  if (live.kind === 'refused') throw new Refused(live.message);
  if (live.kind === 'none') throw new Refused(`the user is no longer in ${ctx.app} (deleted outside idplane?); plan again`);
  return live.user;
}

/** update (goal null), enable or disable: see the contract. */
async function mutate(ctx: Context, change: AccountChange, result: Result, goal: Extract<Goal, 'enable' | 'disable' | 'suspend'> | null): Promise<ChangeResult> {
  for (const name of Object.keys(change.attributes)) propertyOf(name);
  const user = await found(ctx, change);
  const status = effectiveStatus(user);
  if (status === undefined) return result('failed', `${ctx.app} answered user ${user.id} with status ${JSON.stringify(user.status)}, which idplane does not know`);
  const live = flattenUser(user);
  const entries = Object.entries(change.attributes).map(([name, v]) => ({ name, from: v.from ?? '', to: v.to ?? '', now: live[name] ?? '' }));
  const moved = entries.filter((e) => e.now !== e.from && e.now !== e.to);
  if (moved.length > 0) return result('skipped', `changed in ${ctx.app} since the plan: ${moved.map((e) => e.name).join(', ')}; not overwritten (plan again)`);
  const pending = entries.filter((e) => e.now !== e.to).map((e): [string, string | null] => [e.name, e.to]);
  const operations = goal === null ? [] : operationsFor(goal, status);
  if (pending.length === 0 && operations.length === 0) return result('done', 'already in place');
  if (pending.length > 0 && status === 'DEPROVISIONED' && goal !== 'enable') {
    return result('skipped', `the user is DEPROVISIONED in ${ctx.app} (deactivated since the plan?), and Okta does not update a deactivated user's profile; plan again`);
  }
  const id = user.id;
  const update = async () => {
    if (pending.length === 0) return;
    await send(ctx, 'POST', ctx.client.api(`/users/${encodeURIComponent(id)}`), { profile: await profileOf(ctx, pending) });
  };
  const disabling = goal === 'disable' || goal === 'suspend';
  if (disabling) await update();
  for (const operation of operations) {
    const request = requestOf(operation, id);
    await send(ctx, request.method, ctx.client.api(request.path, request.query));
  }
  if (!disabling) await update();
  const did = [...operations, ...(pending.length > 0 ? ['profile update'] : [])];
  return result('done', goal === null ? undefined : did.join(', '));
}

async function remove(ctx: Context, change: AccountChange, result: Result): Promise<ChangeResult> {
  const live = await lookup(ctx.client, ctx.key, change.key);
  if (live.kind === 'none') return result('done', 'already gone');
  if (live.kind === 'refused') return result('failed', live.message);
  const status = effectiveStatus(live.user);
  if (status === undefined) return result('failed', `${ctx.app} answered user ${live.user.id} with status ${JSON.stringify(live.user.status)}, which idplane does not know`);
  for (const operation of operationsFor('delete', status)) {
    const request = requestOf(operation, live.user.id);
    const url = ctx.client.api(request.path, request.query);
    const response = await ctx.client.request(request.method, url);
    if ((response.status >= 200 && response.status < 300) || (operation === 'delete' && response.status === 404)) continue;
    return result('failed', refusal(ctx, request.method, url, response));
  }
  return result('done');
}
