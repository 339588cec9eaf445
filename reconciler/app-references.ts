/**
 * Which app attributes a config reads from an app, found in its texts: the import's match pairs and
 * watermark by name, and every `app.x`, `app.?x`, `app["x"]` or `app[?'x']` in its mappings, its
 * `disabled` expression and its match expressions (quoted names unescaped). Providers ask a server for
 * these (and fill '' for any an account lacks); validate checks them against what an app reports. Pure.
 */
import type { ImportConfig } from '../schemas/generated/config.ts';

const APP_REF = /\bapp\.\??([A-Za-z_][A-Za-z0-9_]*)|\bapp\[\??\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')\s*\]/g;

const USER_REF = new RegExp(APP_REF.source.replace(/app/g, 'user'), 'g');

/** The app attribute names a CEL text reads, in order of appearance. */
export function appReferences(text: string): string[] {
  return names(text, APP_REF);
}

/** The user attribute names a CEL text over `user` reads (`user.x`, `user.?x`, `user["x"]`), in order of appearance. */
export function userReferences(text: string): string[] {
  return names(text, USER_REF);
}

function names(text: string, pattern: RegExp): string[] {
  return [...text.matchAll(pattern)].map((m) => m[1] ?? (m[2] ?? m[3]!).replace(/\\(.)/g, '$1'));
}

/**
 * `app` used otherwise than by name (`size(app)`, a macro over its keys such as `app.filter(k, …)`,
 * `app[someKey]`): which names it reads is not known from the text.
 */
const WHOLE_APP = /\bapp\b(?!\s*(?:\.\??[A-Za-z_]|\[\??\s*["']))|\bapp\s*\.\s*(?:all|exists|exists_one|filter|map)\s*\(/;

/**
 * The app attribute names one account sent to an import needs (JIT): the key and what importReads
 * finds; null when an expression reads `app` as a whole, so that every name must be kept.
 */
export function accountReads(imp: ImportConfig | undefined, key: string): Set<string> | null {
  if (imp) {
    const texts = [...Object.values(imp.mappings), imp.disabled ?? '', ...(imp.match ?? []).map((rule) => rule.expression?.app ?? '')];
    if (texts.some((text) => WHOLE_APP.test(text.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""')))) return null;
  }
  return new Set([key, ...importReads(imp)]);
}

/** The app attribute names an import reads (see the header); empty without an import. */
export function importReads(imp: ImportConfig | undefined): Set<string> {
  const names = new Set<string>();
  if (!imp) return names;
  const texts = [...Object.values(imp.mappings), imp.disabled ?? ''];
  for (const rule of imp.match ?? []) {
    if (rule.app) names.add(rule.app);
    for (const pair of rule.all ?? []) names.add(pair.app);
    if (rule.expression) texts.push(rule.expression.app);
  }
  if (imp.watermark) names.add(imp.watermark);
  for (const text of texts) for (const name of appReferences(text)) names.add(name);
  return names;
}
