/**
 * What shared outputs (the Markdown plan and drift report, posted to pull requests and CI logs) show of
 * personal data. A value is shown only for the attributes the plan lists as unmasked (`sensitive:
 * false`, by default title, department, status and a few more: reconciler/sensitivity.ts); others
 * read •••. Logins and account keys become short tags (`#3fa9c1e2`): the first 8 hex digits of the
 * SHA-256 of the state's lineage and the lowercased value, so a reviewer can tell users apart and
 * follow one across the plans of a state, while the comment alone does not name them. Free text
 * (conflict and warning messages) gets the same tags for every login, key and e-mail address in it.
 */
import { createHash } from 'node:crypto';

export interface Masking {
  readonly masked: boolean;
  /** A user's login (remembered, so that free text naming it later is tagged too). */
  user(login: string): string;
  /** An account key, or any other identifier. */
  id(value: string): string;
  /** An attribute's value, as Markdown (a code span, *(unset)*, or the mask). */
  value(attribute: string, value: unknown): string;
  /** Free text: every identifier in `names`, every login seen so far, and every e-mail address, tagged. */
  text(text: string, names?: readonly (string | null | undefined)[]): string;
}

export interface MaskingOptions {
  /** Show everything as it is (--show-personal-data). */
  unmasked: boolean;
  /** The attributes whose values may be shown; absent: none. */
  shown?: readonly string[];
  /** Salts the tags: the state's lineage (stable over the plans of one state). */
  salt: string | null;
}

const EMAIL = `[^\\s@,;:()<>"'\`/]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}`;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function createMasking(options: MaskingOptions): Masking {
  if (options.unmasked) {
    return { masked: false, user: (v) => v, id: (v) => v, value: (_a, v) => (v === null || v === undefined ? '*(unset)*' : `\`${JSON.stringify(v)}\``), text: (t) => t };
  }
  const shown = new Set(options.shown ?? []);
  const salt = options.salt ?? '';
  const tags = new Map<string, string>();
  const tag = (value: string): string => {
    let t = tags.get(value);
    if (t === undefined) {
      t = `#${createHash('sha256').update(`${salt}\u0000${value.toLowerCase()}`).digest('hex').slice(0, 8)}`;
      tags.set(value, t);
    }
    return t;
  };
  const id = (value: string) => `\`${tag(value)}\``;
  // Logins that are not e-mail addresses (which the text pattern finds anyway) are few: remembered.
  const remembered = new Set<string>();
  return {
    masked: true,
    user(login) {
      if (!login.includes('@')) remembered.add(login);
      return id(login);
    },
    id,
    value: (attribute, v) => (v === null || v === undefined ? '*(unset)*' : shown.has(attribute) ? `\`${JSON.stringify(v)}\`` : '`•••`'),
    text(text, names = []) {
      const known = [...new Set([...names.filter((n): n is string => Boolean(n)), ...remembered])].sort((a, b) => b.length - a.length);
      // Whole identifiers only: "5" is not tagged inside "line 15", nor a login inside a longer one.
      const alternatives = [...known.map(escapeRegExp), EMAIL];
      const pattern = new RegExp(`(?<![\\w.@+-])(?:${alternatives.join('|')})(?![\\w@+-]|\\.\\w)`, 'g');
      return text.replace(pattern, (m) => id(m));
    },
  };
}
