/**
 * Schema discovery for an LDAP app: the server's subschema (RFC 4512 §4.2), read from the subschemaSubentry
 * the root DSE names. The attributes are those the configured object classes allow (provision.objectClasses,
 * or inetOrgPerson; for Active Directory, user), following SUP chains, with their syntax turned into
 * directory types: INTEGER syntax → integer, Boolean → boolean, the rest strings.
 */
import type { LdapApp } from '../../schemas/generated/config.ts';
import type { DiscoveredAttribute } from '../discovery.ts';
import { ProviderError } from '../errors.ts';
import { closeLdap, ldapError, openLdap } from './connection.ts';

const INTEGER = '1.3.6.1.4.1.1466.115.121.1.27';
const BOOLEAN = '1.3.6.1.4.1.1466.115.121.1.7';

interface ObjectClass { sup: string[]; must: string[]; may: string[] }
interface AttributeType { names: string[]; syntax: string | null; single: boolean; sup: string | null; desc: string | null }

export async function discoverLdap(app: string, config: LdapApp, dir: string): Promise<{ attributes: DiscoveredAttribute[]; note: string }> {
  const client = await openLdap({ app, connection: config.connection, dir });
  try {
    const root = await client.search('', { scope: 'base', filter: '(objectClass=*)', attributes: ['subschemaSubentry'] });
    const subentry = String(root.searchEntries[0]?.subschemaSubentry ?? 'cn=Subschema');
    const result = await client.search(subentry, { scope: 'base', filter: '(objectClass=subschema)', attributes: ['objectClasses', 'attributeTypes'] });
    const entry = result.searchEntries[0];
    if (!entry) throw new ProviderError(app, `${subentry} cannot be read`);
    const classes = new Map<string, ObjectClass>();
    for (const text of asList(entry.objectClasses)) {
      const parsed = parseDefinition(text);
      const value: ObjectClass = { sup: parsed.list('SUP'), must: parsed.list('MUST'), may: parsed.list('MAY') };
      for (const n of parsed.names) classes.set(n.toLowerCase(), value);
    }
    const types = new Map<string, AttributeType>();
    for (const text of asList(entry.attributeTypes)) {
      const parsed = parseDefinition(text);
      const value: AttributeType = { names: parsed.names, syntax: parsed.word('SYNTAX')?.replace(/\{\d+\}$/, '') ?? null, single: parsed.flag('SINGLE-VALUE'), sup: parsed.word('SUP'), desc: parsed.quoted('DESC') };
      for (const n of parsed.names) types.set(n.toLowerCase(), value);
    }
    const wanted = config.provision?.objectClasses ?? [config.connection.flavor === 'ad' ? 'user' : 'inetOrgPerson'];
    const must = new Set<string>();
    const may = new Set<string>();
    const seen = new Set<string>();
    const walk = (name: string) => {
      const oc = classes.get(name.toLowerCase());
      if (!oc || seen.has(name.toLowerCase())) return;
      seen.add(name.toLowerCase());
      oc.must.forEach((a) => must.add(a));
      oc.may.forEach((a) => may.add(a));
      oc.sup.forEach(walk);
    };
    wanted.forEach(walk);
    if (seen.size === 0) throw new ProviderError(app, `the server's schema has none of the object classes ${wanted.join(', ')}`);
    const syntaxOf = (t: AttributeType | undefined, depth = 0): string | null => (!t ? null : t.syntax ?? (t.sup && depth < 10 ? syntaxOf(types.get(t.sup.toLowerCase()), depth + 1) : null));
    const attributes = [...new Set([...must, ...may])].filter((a) => a.toLowerCase() !== 'objectclass').map((name): DiscoveredAttribute => {
      const t = types.get(name.toLowerCase());
      const syntax = syntaxOf(t);
      return {
        name,
        type: syntax === INTEGER ? 'integer' : syntax === BOOLEAN ? 'boolean' : 'string',
        multiValued: t ? !t.single : true,
        required: must.has(name),
        unique: false,
        description: t?.desc ?? null,
      };
    });
    return { attributes, note: `${subentry}: ${wanted.join(', ')} (${attributes.length} attributes)` };
  } catch (error) {
    if (error instanceof ProviderError) throw error;
    throw new ProviderError(app, `schema discovery at ${config.connection.url} failed: ${ldapError(error, config.connection.password)}`);
  } finally {
    await closeLdap(client);
  }
}

function asList(value: unknown): string[] {
  return (Array.isArray(value) ? value : value === undefined ? [] : [value]).map((v) => (Buffer.isBuffer(v) ? v.toString('utf8') : String(v)));
}

/** A small reader for RFC 4512 definitions: ( oid NAME ( 'a' 'b' ) SUP x MUST ( a $ b ) SINGLE-VALUE … ). */
function parseDefinition(text: string) {
  const tokens: string[] = [...(text.match(/'[^']*'|\(|\)|\$|[^\s()$']+/g) ?? [])];
  const after = (keyword: string): string[] => {
    const i = tokens.indexOf(keyword);
    if (i < 0) return [];
    if (tokens[i + 1] !== '(') return tokens[i + 1] ? [tokens[i + 1]!] : [];
    const out: string[] = [];
    for (let j = i + 2; j < tokens.length && tokens[j] !== ')'; j++) if (tokens[j] !== '$') out.push(tokens[j]!);
    return out;
  };
  const unquote = (t: string) => t.replace(/^'|'$/g, '');
  return {
    names: after('NAME').map(unquote),
    list: (k: string) => after(k).map(unquote),
    word: (k: string) => after(k)[0] ?? null,
    quoted: (k: string) => (after(k)[0] ? unquote(after(k)[0]!) : null),
    flag: (k: string) => tokens.includes(k),
  };
}
