/**
 * Schema discovery: what an app says its accounts look like, turned into YAML a person can paste into
 * idplane.yaml: directory attribute declarations (names made valid, types mapped) and the import mappings
 * that fill them. Each provider discovers in its own way (a CSV header with inferred types, the LDAP
 * subschema of the configured object classes, SCIM /Schemas); this file renders the common result.
 */
export interface DiscoveredAttribute {
  /** The app's name for it (a CSV column, an LDAP attribute, a SCIM path). */
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean';
  multiValued: boolean;
  required: boolean;
  unique: boolean;
  description: string | null;
}

/**
 * camelCase, starting with a letter: `first_name` → firstName, `urn:…:User:department` → department,
 * Okta's `profile.department` → department (the profile is Okta's namespace, as the URN is SCIM's).
 */
export function directoryName(appName: string): string {
  const last = appName.split(/[:]/).at(-1)!.replace(/^profile\./, '');
  const words = last.split(/[^A-Za-z0-9]+/).filter(Boolean);
  const name = words.map((w, i) => (i === 0 ? w.charAt(0).toLowerCase() + w.slice(1) : w.charAt(0).toUpperCase() + w.slice(1))).join('');
  return /^[A-Za-z_]/.test(name) ? name : `a${name}`;
}

export function renderDiscovery(app: string, provider: string, note: string, attributes: DiscoveredAttribute[]): string {
  const used = new Set<string>();
  const rows = attributes.map((a) => {
    let name = directoryName(a.name);
    for (let i = 2; used.has(name); i++) name = `${directoryName(a.name)}${i}`;
    used.add(name);
    const type = a.multiValued ? 'string[]' : a.type;
    const flags = [`type: ${type === 'string[]' ? '"string[]"' : type}`, ...(a.required ? ['required: true'] : []), ...(a.unique ? ['unique: true'] : [])].join(', ');
    const source = /^[A-Za-z_][A-Za-z0-9_]*$/.test(a.name) ? `app.${a.name}` : `app[${JSON.stringify(a.name)}]`;
    return { name, flags, description: a.description, source };
  });
  const width = Math.max(0, ...rows.map((r) => r.name.length + 1));
  const lines = [
    `# ${app} (${provider}): ${note}.`,
    '# Paste what you need into idplane.yaml; review the types and the unique/required flags first.',
    'directory:',
    '  attributes:',
    ...rows.map((r) => `    ${`${r.name}:`.padEnd(width)} { ${r.flags} }${r.description ? `  # ${r.description}` : ''}`),
    'apps:',
    `  ${app}:`,
    '    import:',
    '      mappings:',
    ...rows.map((r) => `        ${`${r.name}:`.padEnd(width)} ${r.source}`),
  ];
  return lines.join('\n') + '\n';
}
