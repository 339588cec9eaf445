/**
 * Which directory attributes hold personal data that shared outputs mask: `sensitive:` when the
 * config says, else personal unless the name is one of a few organisational attributes. Unknown
 * attributes count as personal, so a new attribute is masked until someone decides otherwise.
 */
import type { AttributeConfig } from '../schemas/generated/config.ts';

const ORGANISATIONAL = new Set([
  'title', 'jobtitle', 'department', 'division', 'organization', 'organisation', 'company', 'costcenter',
  'usertype', 'employeetype', 'employmenttype', 'status', 'locale', 'timezone', 'preferredlanguage', 'countrycode',
]);

/** Logins are personal unless the config says `login: { sensitive: false }` (then users are shown by login). */
export function isSensitive(name: string, attribute: Pick<AttributeConfig, 'sensitive'>): boolean {
  return attribute.sensitive ?? (name === 'login' || !ORGANISATIONAL.has(name.toLowerCase()));
}

/** The attributes whose values shared views may show (plan header `unmaskedAttributes`), in declaration order. */
export function unmaskedAttributes(attributes: Record<string, Pick<AttributeConfig, 'sensitive'>>): string[] {
  return Object.entries(attributes).filter(([name, a]) => !isSensitive(name, a)).map(([name]) => name);
}
