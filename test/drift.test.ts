import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { copyExample, idplane } from './cli-helpers.ts';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await copyExample('provisioning')));
afterEach(async () => cleanup());

async function edit(file: string, change: (text: string) => string): Promise<void> {
  const path = join(dir, file);
  await writeFile(path, change(await readFile(path, 'utf8')));
}

describe('idplane drift', () => {
  it('reports nothing after an apply, then each kind of out-of-band change, and exits 2', async () => {
    expect(idplane(dir, ['apply', '--auto-approve']).code).toBe(0);
    const clean = idplane(dir, ['drift']);
    expect(clean.code).toBe(0);
    expect(clean.stdout).toContain('No drift.');

    await edit('data/salesforce.csv', (t) => t
      .replace('jose.hernandez@example.com,jose.hernandez@example.com,José,Hernández,Account Executive', 'jose.hernandez@example.com,jose.hernandez@example.com,José,Hernández,VP Sales')
      .replace(/^kenji\.watanabe@example\.com,.*\n/m, '')
      + 'intruder@example.com,intruder@example.com,In,Truder,Admin,Sales,System Administrator,true,\n');
    await edit('data/hr.csv', (t) => t.replace(/^1025,.*\n/m, ''));
    // An edit of the stored directory behind idplane's back, as the sqlite3 shell would make it.
    const db = new DatabaseSync(join(dir, '.idplane/state.db'));
    expect(db.prepare(`UPDATE users SET record = replace(record, '"title":"Controller"', '"title":"Chief Controller"') WHERE record LIKE '%"title":"Controller"%'`).run().changes).toBe(1);
    db.close();

    const drift = idplane(dir, ['drift', '--format', 'json']);
    expect(drift.code).toBe(2);
    const report = JSON.parse(drift.stdout);
    expect(report.counts).toEqual({ 'out-of-band': 1, 'target-changed': 1, 'target-missing': 1, 'unmanaged-account': 1, 'source-vanished': 1 });
    const by = (kind: string) => report.items.find((i: { kind: string }) => i.kind === kind);
    expect(by('out-of-band')).toMatchObject({ login: 'mei.chen@example.com', attributes: ['title'] });
    expect(by('target-changed')).toMatchObject({ app: 'salesforce', key: 'jose.hernandez@example.com', attributes: ['Title'] });
    expect(by('target-missing')).toMatchObject({ app: 'salesforce', key: 'kenji.watanabe@example.com' });
    expect(by('unmanaged-account')).toMatchObject({ app: 'salesforce', key: 'intruder@example.com' });
    expect(by('source-vanished')).toMatchObject({ app: 'hr', key: '1025', login: 'ana.garcia-lopez@example.com' });

    const md = idplane(dir, ['drift', '--format', 'markdown']);
    expect(md.code).toBe(2);
    expect(md.stdout).toContain('| Target accounts edited outside idplane | 1 |');
    expect(md.stdout).not.toContain('jose.hernandez');
    expect(md.stdout).toMatch(/salesforce\/`#[0-9a-f]{8}` \(`#[0-9a-f]{8}`\) was edited outside idplane/);
  });
});
