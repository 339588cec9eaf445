/**
 * No text value holds a NUL (U+0000): PostgreSQL refuses to store one, which would fail a whole write, and
 * a target may cut the value there. The CSV reader refuses such a row itself, with its line and column
 * (csv/records.ts); the http reader with the record's page (http/records.ts). For the other providers
 * (LDAP, SCIM, Okta), an account holding one is taken out of the snapshot here and becomes a row error
 * naming its key and attribute, so the account is kept as stored (never taken as missing) and the rest
 * of the read goes on. Looks at every value once: reads over the network dwarf it.
 */
import type { RowError, SourceSnapshot } from '../reconciler/model.ts';

/** The first attribute of `attributes` whose name or value holds a NUL, or null. */
export function nulAttribute(attributes: Record<string, string>): string | null {
  for (const name in attributes) {
    if (attributes[name]!.includes('\u0000') || name.includes('\u0000')) return name;
  }
  return null;
}

/** What a row error says of an attribute holding a NUL: `subject` is "the entry", "the record on page 2". */
export function nulMessage(subject: string, attribute: string): string {
  return `${subject} has a NUL character (U+0000) in ${JSON.stringify(attribute.replaceAll('\u0000', '\\u0000'))}, which no value may hold; it is not imported`;
}

/** `snapshot` without its accounts holding a NUL, each one a row error instead; `subject`: "the LDAP entry". */
export function refuseNul(snapshot: SourceSnapshot, subject: string): SourceSnapshot {
  let errors: RowError[] | null = null;
  const kept = snapshot.accounts.filter((account, i) => {
    const bad = nulAttribute(account.attributes);
    if (bad === null) return true;
    (errors ??= []).push({
      line: account.line ?? i + 1, message: nulMessage(`${subject} ${JSON.stringify(account.key.replaceAll('\u0000', '\\u0000'))}`, bad),
      ...(account.key.includes('\u0000') ? {} : { key: account.key }),
    });
    return false;
  });
  if (errors === null) return snapshot;
  const rowErrors = [...snapshot.rowErrors, ...(errors as RowError[])].sort((a, b) => a.line - b.line);
  return { ...snapshot, accounts: kept, rowErrors };
}
