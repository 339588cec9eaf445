/**
 * The pipeline fingerprint: SHA-256 over every part of a config that decides a user's record from their
 * accounts (the directory schema and protection, declared users, profile-source priority, links, `set:`,
 * and each app's key and import section), in canonical form (object keys sorted), plus the version of
 * these semantics. Provisioning, safeguards, state and connection settings are left out: they do not
 * change what an unchanged account maps to. The state stores it (DirectoryState.pipeline), so a plan can
 * leave unchanged users alone only while the config still maps them the same way.
 */
import { createHash } from 'node:crypto';
import type { IdplaneConfig } from '../schemas/generated/config.ts';

/** Bumped whenever mapping, sourcing or lifecycle semantics change, so every user is evaluated again once. */
const SEMANTICS = 1;

export function pipelineFingerprint(config: IdplaneConfig): string {
  const apps: Record<string, unknown> = {};
  for (const [name, app] of Object.entries(config.apps)) apps[name] = { key: app.key ?? null, import: app.import ?? null };
  const decides = {
    semantics: SEMANTICS, directory: config.directory, users: config.users ?? [], profileSources: config.profileSources ?? [],
    links: config.links ?? [], set: config.set ?? [], apps,
  };
  return `sha256:${createHash('sha256').update(canonical(decides)).digest('hex')}`;
}

/** JSON with object keys sorted, so that reordering keys in the YAML does not change the fingerprint. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
