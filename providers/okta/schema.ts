/**
 * The org's user profile schema: GET /api/v1/meta/schemas/user/default (the Schemas API), its base and
 * custom properties with their JSON Schema types, whether Okta requires them and whether it keeps them
 * unique (`unique: "UNIQUE_VALIDATED"`; login always is).
 * Contract: readSchema() throws HttpRequestError for an error status or an answer that is not a user
 * schema; parseSchema() is pure and ignores properties it cannot read (their values stay strings).
 */
import { isObject } from '../json-values.ts';
import { HttpRequestError } from '../http-client.ts';
import type { OktaClient } from './http.ts';
import type { PropertyShape, PropertyType } from './profile.ts';

export interface SchemaProperty extends PropertyShape {
  name: string;
  /** base (Okta's own) or custom. */
  origin: 'base' | 'custom';
  required: boolean;
  unique: boolean;
  title: string | null;
  description: string | null;
}

const TYPES = new Set<PropertyType>(['string', 'boolean', 'integer', 'number', 'array']);

function text(value: unknown): string | null {
  return typeof value === 'string' && value.trim() !== '' ? value.replace(/\s+/g, ' ').trim() : null;
}

/** The properties of a user schema document, base first, each in the schema's order. */
export function parseSchema(body: unknown): SchemaProperty[] | null {
  if (!isObject(body) || !isObject(body.definitions)) return null;
  const out: SchemaProperty[] = [];
  for (const origin of ['base', 'custom'] as const) {
    const part = body.definitions[origin];
    if (!isObject(part) || !isObject(part.properties)) continue;
    const requiredList = Array.isArray(part.required) ? part.required.filter((r): r is string => typeof r === 'string') : [];
    for (const [name, raw] of Object.entries(part.properties)) {
      if (!isObject(raw)) continue;
      const type = TYPES.has(raw.type as PropertyType) ? (raw.type as PropertyType) : 'string';
      const itemType = isObject(raw.items) && TYPES.has(raw.items.type as PropertyType) && raw.items.type !== 'array' ? (raw.items.type as Exclude<PropertyType, 'array'>) : 'string';
      out.push({
        name, origin, type, ...(type === 'array' ? { items: itemType } : {}),
        required: raw.required === true || requiredList.includes(name),
        unique: name === 'login' || raw.unique === 'UNIQUE_VALIDATED' || raw.unique === true,
        title: text(raw.title), description: text(raw.description),
      });
    }
  }
  return out;
}

export async function readSchema(client: OktaClient): Promise<SchemaProperty[]> {
  const url = client.api('/meta/schemas/user/default');
  const response = await client.request('GET', url);
  if (response.status < 200 || response.status >= 300) throw client.failure('GET', url, response);
  const properties = parseSchema(response.body);
  if (!properties) throw new HttpRequestError(client.redact(`GET ${client.describe(url)}: the answer is not an Okta user schema (no definitions.base/custom)`), 'malformed', response.status);
  return properties;
}
