/**
 * No text value holds a NUL (U+0000) or half of a surrogate pair: PostgreSQL refuses to store either,
 * which would fail a whole write, and a target may cut the value at a NUL. The CSV reader refuses such a row itself, with its line and column
 * (csv/records.ts); the http reader with the record's page (http/records.ts). For the other providers
 * (LDAP, SCIM, Okta), an account holding one is taken out of the snapshot here and becomes a row error
 * naming its key and attribute, so the account is kept as stored (never taken as missing) and the rest
 * of the read goes on. Looks at every value once: reads over the network dwarf it.
 */
import type { RowError, SourceSnapshot } from '../reconciler/model.ts';

/** The first attribute of `attributes` whose name or value is not text a store can hold, or null. */
export function nulAttribute(attributes: Record<string, string>): string | null {
  for (const name in attributes) {
    if (!storable(attributes[name]!) || !storable(name)) return name;
  }
  return null;
}

/** No NUL, and no half of a surrogate pair (a JSON escape such as \ud800 alone), which is not text. */
export function storable(text: string): boolean {
  return !text.includes('\u0000') && text.isWellFormed();
}

/** What a row error says of `attribute` (holding `value`), which is not storable text: `subject` is "the record on page 2". */
export function nulMessage(subject: string, attribute: string, value: string): string {
  const what = attribute.includes('\u0000') || value.includes('\u0000') ? 'a NUL character (U+0000)' : 'half of a UTF-16 surrogate pair (a lone \\ud800, say), which is not text';
  return `${subject} has ${what} in ${JSON.stringify(attribute.replaceAll('\u0000', '\\u0000').toWellFormed())}; no value may hold one, so it is not imported`;
}

/** `snapshot` without its accounts holding a NUL, each one a row error instead; `subject`: "the LDAP entry". */
export function refuseNul(snapshot: SourceSnapshot, subject: string): SourceSnapshot {
  let errors: RowError[] | null = null;
  const kept = snapshot.accounts.filter((account, i) => {
    const bad = nulAttribute(account.attributes);
    if (bad === null) return true;
    (errors ??= []).push({
      line: account.line ?? i + 1, message: nulMessage(`${subject} ${JSON.stringify(account.key.replaceAll('\u0000', '\\u0000').toWellFormed())}`, bad, account.attributes[bad]!),
      ...(storable(account.key) ? { key: account.key } : {}),
    });
    return false;
  });
  if (errors === null) return snapshot;
  const rowErrors = [...snapshot.rowErrors, ...(errors as RowError[])].sort((a, b) => a.line - b.line);
  return { ...snapshot, accounts: kept, rowErrors };
}
