/**
 * SCIM attribute paths, as idplane mappings name them (RFC 7644 §3.10 attribute notation, with the value
 * filter of §3.5.2 for one element of a multi-valued attribute):
 *   userName · name.givenName · emails[type eq "work"].value ·
 *   urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department · …:User:manager.value
 * Contract:
 * - parsePath() accepts exactly that grammar (one `eq` value filter, at most one sub-attribute) and throws
 *   ScimPathError otherwise. Attribute names compare case-insensitively (RFC 7643 §2.1); a path naming
 *   the core User schema URN is the same as the bare path.
 * - readPath() flattens a resource's value at a path to a string ('' when absent; booleans "true"/"false";
 *   a multi-valued attribute without a filter gives its primary, else first, element).
 * - setPath() writes (or, with null, removes) a value in a resource object: the body of a POST or a PUT.
 * - patchOperations() gives the PatchOp operations (RFC 7644 §3.5.2) that move one path from the live
 *   resource's value to a new one, choosing the form servers accept: `replace` on the path; `add` of a new
 *   element when no element matches a filter (a `replace` would be answered 400 noTarget); `add` of
 *   the complex parent for an extension's sub-attribute; `remove` for an empty value.
 * - eqFilter() builds the `filter` that finds a resource by a path's value, quoting the value as a JSON
 *   string (so `"` and `\` are escaped), and toJsonValue() types a plan's string for the wire.
 * Pure functions: no I/O.
 */
import { flattenValue, isObject } from '../json-values.ts';
import { setOwn } from '../../reconciler/records.ts';

export const CORE_USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const PATCH_OP_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

export type FilterValue = string | number | boolean;

export interface ScimPath {
  /** The path as written. */
  text: string;
  /** The extension schema URN, or null for the core User schema. */
  schema: string | null;
  attribute: string;
  /** `[attribute eq value]`: one element of a multi-valued attribute. */
  filter: { attribute: string; value: FilterValue } | null;
  sub: string | null;
}

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export interface PatchOperation {
  op: 'add' | 'replace' | 'remove';
  path: string;
  value?: JsonValue;
}

/** A SCIM attribute type (RFC 7643 §2.3), as /Schemas reports it. */
export type AttributeType = 'string' | 'boolean' | 'decimal' | 'integer' | 'dateTime' | 'binary' | 'reference' | 'complex';
export type TypeOf = (path: ScimPath) => AttributeType | undefined;

export class ScimPathError extends Error {}

const NAME = '[A-Za-z$][A-Za-z0-9_$-]*';
const VALUE = '"(?:[^"\\\\]|\\\\.)*"|true|false|-?\\d+(?:\\.\\d+)?';
const PATH = new RegExp(`^(${NAME})(?:\\[\\s*(${NAME})\\s+eq\\s+(${VALUE})\\s*\\])?(?:\\.(${NAME}))?$`, 'i');

export function parsePath(text: string): ScimPath {
  const trimmed = text.trim();
  let schema: string | null = null;
  let rest = trimmed;
  if (/^urn:/i.test(trimmed)) {
    const bracket = trimmed.indexOf('[');
    const head = bracket < 0 ? trimmed : trimmed.slice(0, bracket);
    const colon = head.lastIndexOf(':');
    schema = trimmed.slice(0, colon);
    rest = trimmed.slice(colon + 1);
    if (schema.toLowerCase() === CORE_USER_SCHEMA.toLowerCase()) schema = null;
  }
  const m = PATH.exec(rest);
  if (!m) {
    throw new ScimPathError(`${JSON.stringify(text)} is not a SCIM attribute path (expected e.g. userName, name.givenName, emails[type eq "work"].value or urn:…:User:department)`);
  }
  const [, attribute, filterAttribute, filterText, sub] = m;
  let filter: ScimPath['filter'] = null;
  if (filterAttribute !== undefined && filterText !== undefined) {
    let value: FilterValue;
    try {
      value = JSON.parse(filterText) as FilterValue;
    } catch {
      throw new ScimPathError(`${JSON.stringify(text)}: the filter value ${filterText} is not a valid JSON string`);
    }
    filter = { attribute: filterAttribute, value };
    if (sub === undefined) throw new ScimPathError(`${JSON.stringify(text)}: a filtered path needs a sub-attribute, e.g. ${rest}.value`);
  }
  return { text, schema, attribute: attribute!, filter, sub: sub ?? null };
}

/** The canonical text of a path (core attributes without the schema URN, filter values as JSON). */
export function formatPath(path: Pick<ScimPath, 'schema' | 'attribute' | 'filter' | 'sub'>): string {
  const filter = path.filter ? `[${path.filter.attribute} eq ${JSON.stringify(path.filter.value)}]` : '';
  return `${path.schema ? `${path.schema}:` : ''}${path.attribute}${filter}${path.sub ? `.${path.sub}` : ''}`;
}

/** The key of `name` in an object, compared case-insensitively. */
function keyOf(object: Record<string, unknown>, name: string): string | undefined {
  if (Object.hasOwn(object, name)) return name;
  const lower = name.toLowerCase();
  return Object.keys(object).find((k) => k.toLowerCase() === lower);
}

function get(object: unknown, name: string): unknown {
  if (!isObject(object)) return undefined;
  const key = keyOf(object, name);
  return key === undefined ? undefined : object[key];
}

function sameFilterValue(actual: unknown, expected: FilterValue): boolean {
  if (typeof expected === 'string') return typeof actual === 'string' && actual.toLowerCase() === expected.toLowerCase();
  return actual === expected;
}

function matching(list: unknown, path: ScimPath): Record<string, unknown>[] {
  if (!Array.isArray(list) || !path.filter) return [];
  const { attribute, value } = path.filter;
  return list.filter((e): e is Record<string, unknown> => isObject(e) && sameFilterValue(get(e, attribute), value));
}

function primaryOrFirst(list: unknown[]): unknown {
  return list.find((e) => get(e, 'primary') === true) ?? list[0];
}

/** The container of a path's attribute: the resource, or its extension object. */
function container(resource: unknown, path: ScimPath): unknown {
  return path.schema ? get(resource, path.schema) : resource;
}

export function readPath(resource: unknown, path: ScimPath): string {
  const value = get(container(resource, path), path.attribute);
  if (path.filter) {
    const found = matching(value, path);
    return found.length === 0 ? '' : flattenValue(get(primaryOrFirst(found), path.sub!));
  }
  if (path.sub) return flattenValue(get(Array.isArray(value) ? primaryOrFirst(value) : value, path.sub));
  return flattenValue(value);
}

/** Whether a filtered path's element exists in the resource (a replace needs a target). */
export function hasElement(resource: unknown, path: ScimPath): boolean {
  return matching(get(container(resource, path), path.attribute), path).length > 0;
}

/**
 * Writes a value at a path in a resource object (null removes it), creating the extension object and
 * listing its schema in `schemas` as needed. Every element a filter matches is written.
 */
export function setPath(resource: JsonObject, path: ScimPath, value: JsonValue): void {
  let target: JsonObject = resource;
  if (path.schema) {
    const key = keyOf(resource, path.schema) ?? path.schema;
    const existing = resource[key];
    if (!isObject(existing)) {
      if (value === null) return;
      resource[key] = {};
    }
    target = resource[key] as JsonObject;
    const schemas = Array.isArray(resource.schemas) ? resource.schemas : (resource.schemas = [CORE_USER_SCHEMA]);
    if (value !== null && !schemas.some((s) => typeof s === 'string' && s.toLowerCase() === path.schema!.toLowerCase())) schemas.push(path.schema);
  }
  const key = keyOf(target, path.attribute) ?? path.attribute;
  if (path.filter) {
    const sub = path.sub!;
    const list = Array.isArray(target[key]) ? (target[key] as JsonValue[]) : [];
    const found = matching(list, path) as JsonObject[];
    if (value === null) {
      // An element without its value means nothing: the element goes (other sub-attributes go alone).
      const kept = sub.toLowerCase() === 'value' ? list.filter((e) => !found.includes(e as JsonObject)) : list;
      if (sub.toLowerCase() !== 'value') for (const e of found) delete e[keyOf(e, sub) ?? sub];
      if (kept.length === 0) delete target[key];
      else target[key] = kept;
      return;
    }
    if (found.length === 0) {
      target[key] = [...list, { [path.filter.attribute]: path.filter.value, [sub]: value }];
    } else {
      for (const e of found) e[keyOf(e, sub) ?? sub] = value;
      target[key] = list;
    }
    return;
  }
  if (path.sub) {
    let parent = target[key];
    if (Array.isArray(parent)) {
      // No filter on a multi-valued attribute: its primary (else first) element.
      const element = primaryOrFirst(parent) as JsonValue | undefined;
      if (!isObject(element)) {
        if (value !== null) target[key] = [{ [path.sub]: value }];
        return;
      }
      parent = element;
    }
    if (!isObject(parent)) {
      if (value === null) return;
      parent = target[key] = {};
    }
    const object = parent as JsonObject;
    if (value === null) {
      delete object[keyOf(object, path.sub) ?? path.sub];
      if (Object.keys(object).length === 0 && target[key] === object) delete target[key];
    } else {
      object[keyOf(object, path.sub) ?? path.sub] = value;
    }
    return;
  }
  if (value === null) delete target[key];
  else target[key] = value;
}

/**
 * The PatchOp operations that set `path` to `value` (null: remove) on a resource whose live state is
 * `live`. Nothing is returned when the live value already is the wanted one.
 */
export function patchOperations(live: unknown, path: ScimPath, value: JsonValue): PatchOperation[] {
  const current = readPath(live, path);
  if (value === null) {
    if (current === '') return [];
    if (path.filter && path.sub!.toLowerCase() === 'value') return [{ op: 'remove', path: formatPath({ ...path, sub: null }) }];
    return [{ op: 'remove', path: formatPath(path) }];
  }
  if (current === flattenValue(value)) return [];
  if (path.filter) {
    if (hasElement(live, path)) return [{ op: 'replace', path: formatPath(path), value }];
    return [{ op: 'add', path: formatPath({ ...path, filter: null, sub: null }), value: [{ [path.filter.attribute]: path.filter.value, [path.sub!]: value }] }];
  }
  if (path.schema && path.sub) {
    // `add` of a complex attribute merges the sub-attributes given and keeps the others (RFC 7644
    // §3.5.2.1); some servers answer a `replace` on an extension's sub-attribute path with noTarget.
    return [{ op: 'add', path: formatPath({ ...path, sub: null }), value: { [path.sub]: value } }];
  }
  return [{ op: 'replace', path: formatPath(path), value }];
}

/** A `filter` expression that finds the resources whose value at `path` equals `value`. */
export function eqFilter(path: ScimPath, value: string): string {
  const prefix = path.schema ? `${path.schema}:` : '';
  const literal = JSON.stringify(value);
  if (path.filter) {
    return `${prefix}${path.attribute}[${path.filter.attribute} eq ${JSON.stringify(path.filter.value)} and ${path.sub} eq ${literal}]`;
  }
  return `${prefix}${path.attribute}${path.sub ? `.${path.sub}` : ''} eq ${literal}`;
}

/** Attributes whose type is known without /Schemas (RFC 7643 §4.1). */
const KNOWN_BOOLEANS = new Set(['active', 'primary']);

/**
 * Types a plan's string value for the wire, by the attribute's declared type (or, undeclared, `active`
 * and `primary` as booleans, everything else as a string). '' stays a string: emptiness is handled by
 * the callers (they remove instead). Throws ScimPathError for a value the type cannot hold.
 */
export function toJsonValue(path: ScimPath, value: string, typeOf?: TypeOf): JsonValue {
  const name = (path.sub ?? path.attribute).toLowerCase();
  const type = typeOf?.(path) ?? (KNOWN_BOOLEANS.has(name) ? 'boolean' : 'string');
  switch (type) {
    case 'boolean':
      if (/^true$/i.test(value.trim())) return true;
      if (/^false$/i.test(value.trim())) return false;
      throw new ScimPathError(`${path.text} is a boolean: expected true or false, got ${JSON.stringify(value)}`);
    case 'integer':
      if (/^-?\d+$/.test(value.trim())) return Number(value);
      throw new ScimPathError(`${path.text} is an integer: got ${JSON.stringify(value)}`);
    case 'decimal': {
      const n = Number(value);
      if (value.trim() !== '' && Number.isFinite(n)) return n;
      throw new ScimPathError(`${path.text} is a decimal: got ${JSON.stringify(value)}`);
    }
    case 'complex':
      throw new ScimPathError(`${path.text} is a complex attribute: map one of its sub-attributes (e.g. ${path.text}.value)`);
    default:
      return value;
  }
}

/**
 * Every value of a resource flattened to paths: plain attributes, sub-attributes of complex ones
 * (`name.givenName`), typed elements of multi-valued ones (`emails[type eq "work"].value`, plus
 * `emails.value` for the primary or first element) and extension attributes under their schema URN.
 */
export function flattenResource(resource: Record<string, unknown>, into: Record<string, string> = {}): Record<string, string> {
  const put = (name: string, value: unknown) => {
    if (!Object.hasOwn(into, name)) setOwn(into, name, flattenValue(value));
  };
  const attribute = (name: string, value: unknown) => {
    if (Array.isArray(value)) {
      if (value.every((e) => !isObject(e))) return put(name, value);
      for (const element of value) {
        if (!isObject(element)) continue;
        const type = get(element, 'type');
        for (const [sub, v] of Object.entries(element)) {
          if (isObject(v) || Array.isArray(v)) continue;
          if (typeof type === 'string' && type !== '') put(`${name}[type eq ${JSON.stringify(type)}].${sub}`, v);
        }
      }
      const first = primaryOrFirst(value);
      if (isObject(first)) for (const [sub, v] of Object.entries(first)) if (!isObject(v) && !Array.isArray(v)) put(`${name}.${sub}`, v);
      return;
    }
    if (isObject(value)) {
      for (const [sub, v] of Object.entries(value)) if (!isObject(v)) put(`${name}.${sub}`, v);
      return;
    }
    put(name, value);
  };
  for (const [name, value] of Object.entries(resource)) {
    if (name === 'schemas') continue;
    if (/^urn:/i.test(name) && isObject(value)) {
      for (const [inner, v] of Object.entries(value)) attribute(`${name}:${inner}`, v);
    } else {
      attribute(name, value);
    }
  }
  return into;
}
