/**
 * Roles come only from the config, through the real CLI on both state backends: a `set:` or `users:`
 * entry that granted super_admin, once removed, takes the role away (the plan says why), every format
 * calls the change out first, and a termination in HR is then no longer blocked as a protected user.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import { onEachBackend } from './backends.ts';
import { idplane } from './cli-helpers.ts';

const GRANT = '\nset:\n  - { user: amara.okafor@example.com, roles: [super_admin] }\n';
const DECLARED = /^users:\n(?: {2}.*\n)+/m;

async function revokingARemovesTheRole(dir: string, env: Record<string, string>): Promise<void> {
  const config = join(dir, 'idplane.yaml');
  const original = await readFile(config, 'utf8');
  expect(original).toMatch(DECLARED);
  await writeFile(config, original + GRANT);
  const first = idplane(dir, ['plan'], { env });
  expect(first.code, first.stderr).toBe(0);
  expect(first.stdout.split('\n')[0]).toContain('! This plan gives super_admin to amara.okafor@example.com, breakglass@example.com.');
  expect(idplane(dir, ['apply', '--auto-approve'], { env }).code).toBe(0);
  expect(idplane(dir, ['state', 'show', 'amara.okafor@example.com'], { env }).stdout).toMatch(/roles: +super_admin/);

  // The pull request that granted it is reverted, and the break-glass account is retired from users:.
  await writeFile(config, original.replace(DECLARED, ''));
  const text = idplane(dir, ['plan', '--detailed-exitcode'], { env });
  expect(text.code, text.stderr).toBe(2);
  expect(text.stdout.split('\n')[0]).toContain('! This plan takes super_admin from amara.okafor@example.com, breakglass@example.com.');
  expect(text.stdout).toContain('- role super_admin (no set: entry grants it any more)');
  expect(text.stdout).toContain('- role super_admin (no users: or set: entry grants it any more)');
  const markdown = idplane(dir, ['plan', '--format', 'markdown'], { env }).stdout;
  const callout = markdown.split('\n').slice(2, 4).join('\n');
  expect(callout).toMatch(/^> \[!CAUTION\]\n> \*\*This plan takes super_admin from `#[0-9a-f]{8}`, `#[0-9a-f]{8}`\.\*\*$/);
  expect(markdown).not.toContain('amara.okafor');
  const json = JSON.parse(idplane(dir, ['plan', '--format', 'json'], { env }).stdout) as { summary: { superAdmin?: unknown } };
  expect(json.summary.superAdmin).toEqual({ granted: [], removed: ['amara.okafor@example.com', 'breakglass@example.com'] });
  expect(idplane(dir, ['apply', '--auto-approve'], { env }).code).toBe(0);
  expect(idplane(dir, ['state', 'show', 'amara.okafor@example.com'], { env }).stdout).toMatch(/roles: +\(none\)/);
  expect(idplane(dir, ['state', 'show', 'breakglass@example.com'], { env }).stdout).toMatch(/status: +ACTIVE[\s\S]*roles: +\(none\)/);
  const settled = idplane(dir, ['plan', '--detailed-exitcode'], { env });
  expect(settled.code, settled.stdout).toBe(0);

  // Amara leaves: nothing protects her any more, so the termination goes through.
  const hr = join(dir, 'data/hr.csv');
  await writeFile(hr, (await readFile(hr, 'utf8')).replace(/^(1001,.*),Active,/m, '$1,Terminated,'));
  const leaver = JSON.parse(idplane(dir, ['plan', '--format', 'json'], { env }).stdout) as { users: { login: string; action: string }[]; warnings: { code: string }[] };
  expect(leaver.users.map((u) => [u.login, u.action])).toEqual([['amara.okafor@example.com', 'deactivate']]);
  expect(leaver.warnings.filter((w) => w.code === 'protected-user')).toEqual([]);
}

onEachBackend('a role whose config entry is removed', 'is taken away, called out first in every format, and stops protecting the user', revokingARemovesTheRole);
