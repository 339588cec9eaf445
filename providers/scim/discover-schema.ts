/**
 * Schema discovery for a SCIM app: the User schema and its extensions from GET /Schemas (RFC 7643 §7),
 * flattened to the attribute paths idplane mappings use (`name.givenName`, `emails.value`, and
 * `urn:…:enterprise:2.0:User:department` for extensions), with SCIM types turned into directory types.
 * Read-only attributes the server assigns (id, meta, groups) are left out.
 */
import type { ScimApp } from '../../schemas/generated/config.ts';
import type { DiscoveredAttribute } from '../discovery.ts';
import { ProviderError } from '../errors.ts';
import { openTransport, ScimRequestError } from './http.ts';
import { CORE_USER_SCHEMA } from './paths.ts';

interface SchemaAttribute {
  name?: unknown;
  type?: unknown;
  multiValued?: unknown;
  required?: unknown;
  uniqueness?: unknown;
  mutability?: unknown;
  description?: unknown;
  subAttributes?: unknown;
}

const TYPES: Record<string, DiscoveredAttribute['type']> = { boolean: 'boolean', integer: 'integer', decimal: 'number' };

export async function discoverScim(app: string, config: ScimApp): Promise<{ attributes: DiscoveredAttribute[]; note: string }> {
  try {
    return await discover(app, config);
  } catch (error) {
    if (error instanceof ScimRequestError) throw new ProviderError(app, `schema discovery failed: ${error.message}`);
    throw error;
  }
}

async function discover(app: string, config: ScimApp): Promise<{ attributes: DiscoveredAttribute[]; note: string }> {
  const transport = openTransport(app, config.connection);
  const url = transport.endpoint('/Schemas');
  const response = await transport.request('GET', url);
  if (response.status < 200 || response.status >= 300) throw transport.failure('GET', url, response);
  const body = response.body as { Resources?: unknown } | unknown[];
  const schemas = (Array.isArray(body) ? body : Array.isArray((body as { Resources?: unknown }).Resources) ? (body as { Resources: unknown[] }).Resources : []) as { id?: unknown; attributes?: unknown }[];
  const user = schemas.filter((s) => typeof s.id === 'string' && (s.id === CORE_USER_SCHEMA || /:User$/.test(s.id)));
  if (user.length === 0) throw new ProviderError(app, `${url.href} has no User schema`);
  const attributes: DiscoveredAttribute[] = [];
  for (const schema of user) {
    const prefix = schema.id === CORE_USER_SCHEMA ? '' : `${String(schema.id)}:`;
    for (const a of (Array.isArray(schema.attributes) ? schema.attributes : []) as SchemaAttribute[]) {
      if (typeof a.name !== 'string' || a.mutability === 'readOnly' || a.name === 'groups') continue;
      const subs = Array.isArray(a.subAttributes) ? (a.subAttributes as SchemaAttribute[]) : [];
      if (a.type === 'complex' && subs.length > 0) {
        for (const s of subs) {
          if (typeof s.name !== 'string' || s.mutability === 'readOnly' || s.name === '$ref') continue;
          if (a.multiValued === true && s.name !== 'value') continue; // emails.value etc.; type/primary are qualifiers
          attributes.push(describe(`${prefix}${a.name}.${s.name}`, s, a.multiValued === true));
        }
      } else {
        attributes.push(describe(`${prefix}${a.name}`, a, a.multiValued === true));
      }
    }
  }
  return { attributes, note: `${url.href}: ${user.map((s) => s.id).join(', ')}` };
}

function describe(name: string, a: SchemaAttribute, multiValued: boolean): DiscoveredAttribute {
  const text = typeof a.description === 'string' ? a.description.replace(/\s+/g, ' ').slice(0, 80) : null;
  return {
    name,
    type: TYPES[String(a.type)] ?? 'string',
    multiValued: false,
    required: a.required === true,
    unique: a.uniqueness === 'server' || a.uniqueness === 'global',
    description: multiValued ? `${text ?? ''}${text ? '; ' : ''}multi-valued: map one element, e.g. ${name.replace(/\.value$/, '[type eq "work"].value')}` : text,
  };
}
