/**
 * The HTTP Link header (RFC 8288 §3): `<https://hr.example/api?page=2>; rel="next", </api?page=9>; rel=last`.
 * Contract:
 * - parseLinkHeader() returns every link-value in order: its target as written (not resolved) and its
 *   parameters, names lower-cased, values unquoted (`\"` unescaped). A comma or semicolon inside a quoted
 *   value or inside <…> does not split. A malformed link-value is skipped, never guessed at.
 * - relsOf() gives a link's relation types: `rel` is a space-separated list, compared case-insensitively.
 * - nextLink() is the target of the first link whose relations include `next`, or undefined.
 * Pure functions: no I/O.
 */

export interface LinkValue {
  target: string;
  params: Record<string, string>;
}

export function parseLinkHeader(header: string): LinkValue[] {
  const links: LinkValue[] = [];
  let i = 0;
  const n = header.length;
  const skipSpace = () => {
    while (i < n && /[ \t]/.test(header[i]!)) i++;
  };
  /** Skips to just past the next top-level comma (the end of a malformed link-value). */
  const skipValue = () => {
    let quoted = false;
    for (; i < n; i++) {
      const c = header[i]!;
      if (quoted && c === '\\') i++;
      else if (c === '"') quoted = !quoted;
      else if (c === ',' && !quoted) {
        i++;
        return;
      }
    }
  };
  while (i < n) {
    skipSpace();
    if (header[i] === ',') {
      i++;
      continue;
    }
    if (i >= n) break;
    if (header[i] !== '<') {
      skipValue();
      continue;
    }
    const close = header.indexOf('>', i + 1);
    if (close < 0) break;
    const target = header.slice(i + 1, close).trim();
    i = close + 1;
    const params: Record<string, string> = Object.create(null) as Record<string, string>;
    for (;;) {
      skipSpace();
      if (header[i] !== ';') break;
      i++;
      skipSpace();
      const nameMatch = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+\*?/.exec(header.slice(i));
      if (!nameMatch) break;
      const name = nameMatch[0].toLowerCase();
      i += nameMatch[0].length;
      skipSpace();
      let value = '';
      if (header[i] === '=') {
        i++;
        skipSpace();
        if (header[i] === '"') {
          i++;
          for (; i < n && header[i] !== '"'; i++) {
            if (header[i] === '\\' && i + 1 < n) i++;
            value += header[i];
          }
          i++; // the closing quote
        } else {
          const token = /^[^;,\s]*/.exec(header.slice(i))![0];
          value = token;
          i += token.length;
        }
      }
      if (!Object.hasOwn(params, name)) params[name] = value; // RFC 8288: only the first rel counts
    }
    skipSpace();
    if (i < n && header[i] !== ',') {
      skipValue();
      continue;
    }
    links.push({ target, params: { ...params } });
  }
  return links;
}

export function relsOf(link: LinkValue): string[] {
  return (link.params.rel ?? '').toLowerCase().split(/\s+/).filter(Boolean);
}

export function nextLink(header: string | null | undefined): string | undefined {
  if (!header) return undefined;
  return parseLinkHeader(header).find((l) => relsOf(l).includes('next'))?.target;
}
