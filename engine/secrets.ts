/**
 * The secrets of this process: every value the config took from `${env:NAME}` or `${file:PATH}`
 * (config/load.ts registers them as it resolves them), kept so that no text leaving the process holds
 * one. `redactSecrets` replaces each with `***`, as written and in the forms it takes on the way out:
 * percent-encoded in a URL's path or query (`encodeURIComponent`, and a form's `+` for a space), and
 * escaped inside JSON text. The places text leaves through call it: every IdplaneError and provider
 * error message, the HTTP client's messages, the CLI's stderr, the server's log.
 *
 * A value shorter than MIN_SECRET characters is not treated as a secret: replacing every `on` or `1`
 * in a message would garble it and protect nothing a guess would not find.
 */
export const MIN_SECRET = 4;

const known = new Set<string>();
/** Every form of every secret, the longest first (one may hold another). */
let forms: string[] = [];

export function registerSecrets(values: Iterable<string>): void {
  let added = false;
  for (const value of values) {
    if (value.length < MIN_SECRET || known.has(value)) continue;
    known.add(value);
    added = true;
  }
  if (!added) return;
  const all = new Set<string>();
  for (const value of known) {
    all.add(value);
    const encoded = encodeURIComponent(value);
    all.add(encoded);
    all.add(encoded.replaceAll('%20', '+'));
    all.add(new URLSearchParams({ v: value }).toString().slice(2));
    all.add(JSON.stringify(value).slice(1, -1));
  }
  forms = [...all].filter((f) => f.length >= MIN_SECRET).sort((a, b) => b.length - a.length);
}

/** `text` with every registered secret, in any of its forms, replaced by `***`. */
export function redactSecrets(text: string): string {
  let out = text;
  for (const form of forms) if (out.includes(form)) out = out.split(form).join('***');
  return out;
}

/** Forgets every secret (tests that load several configs in one process). */
export function forgetSecrets(): void {
  known.clear();
  forms = [];
}
