/**
 * Schema discovery for an Okta org: the default user type's profile schema (GET
 * /api/v1/meta/schemas/user/default, ./schema.ts), base and custom properties, as `profile.NAME`
 * attributes with their types (an array property is multi-valued), Okta's required flag and its
 * uniqueness (UNIQUE_VALIDATED). Any failure is a ProviderError naming the app and the request.
 */
import type { OktaApp } from '../../schemas/generated/config.ts';
import type { DiscoveredAttribute } from '../discovery.ts';
import { ProviderError } from '../errors.ts';
import { openClient } from './http.ts';
import type { PropertyType } from './profile.ts';
import { readSchema, type SchemaProperty } from './schema.ts';

const TYPES: Record<PropertyType, DiscoveredAttribute['type']> = { string: 'string', boolean: 'boolean', integer: 'integer', number: 'number', array: 'string' };

export async function discoverOkta(app: string, config: OktaApp): Promise<{ attributes: DiscoveredAttribute[]; note: string }> {
  const client = openClient(app, config.connection);
  let properties: SchemaProperty[];
  try {
    properties = await readSchema(client);
  } catch (error) {
    throw new ProviderError(app, client.redact(`schema discovery failed: ${error instanceof Error ? error.message : String(error)}`));
  }
  const custom = properties.filter((p) => p.origin === 'custom').length;
  return {
    attributes: properties.map(describe),
    note: `${client.describe(client.api('/meta/schemas/user/default'))}: ${properties.length - custom} base and ${custom} custom profile properties`,
  };
}

function describe(p: SchemaProperty): DiscoveredAttribute {
  const text = p.description ?? p.title;
  const origin = p.origin === 'custom' ? 'custom' : null;
  const description = [text, origin].filter((s): s is string => s !== null).join('; ');
  return {
    name: `profile.${p.name}`,
    type: TYPES[p.type === 'array' ? (p.items ?? 'string') : p.type],
    multiValued: p.type === 'array',
    required: p.required,
    unique: p.unique,
    description: description === '' ? null : description.slice(0, 80),
  };
}
