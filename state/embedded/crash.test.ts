/**
 * The embedded store under SIGKILL at random moments: a writer process loops, each run backing the
 * state up (as apply does) and then writing the other of two versions of 20,000 users (every row changes:
 * a bulk replace each time), and is killed at a random instant, ten times; each time the state must be
 * whole (one of the two versions, every acknowledged write there), the database must pass SQLite's
 * integrity check, and the backup must be a whole database of the generation before.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EmbeddedStore } from './store.ts';

const STORE_MODULE = fileURLToPath(new URL('./store.ts', import.meta.url));
const USERS = 20_000;
const KILLS = 10;

let root: string;
let dir: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'idplane-crash-store-'));
  dir = join(root, '.idplane');
});
afterEach(async () => rm(root, { recursive: true, force: true }));

/** A writer that loops forever: each run is recorded (which backs the state up), then writes the other version, serial + 1. */
const WRITER = `
import { EmbeddedStore } from ${JSON.stringify(pathToFileURL(STORE_MODULE).href)};
const [dir, count] = [process.argv[2], Number(process.argv[3])];
const store = new EmbeddedStore({ dir });
function make(lineage, serial) {
  const version = serial % 2;
  const users = new Array(count);
  for (let i = 0; i < count; i++) {
    users[i] = {
      id: 'u' + i, login: 'user' + i + '@example.com', status: version ? 'ACTIVE' : 'SUSPENDED',
      profile: { version, name: (version ? 'Zoë Müller ' : 'Jürgen Ñandú ') + i, note: 'line\\nbreak ' + serial },
      profileSource: 'hr', roles: version ? ['admin'] : [],
    };
  }
  const imported = new Map([['hr', { columns: ['version'], records: new Map([['k', { values: JSON.stringify([String(version)]), disabled: false }]]) }]]);
  return { lineage, serial, users, links: [{ app: 'hr', key: 'k', userId: 'u0' }], imported, watermarks: {}, pipeline: null, edited: false, digest: null };
}
const current = await store.read();
let at = { lineage: current.lineage, serial: current.serial };
process.stdout.write('ready ' + at.serial + '\\n');
for (;;) {
  const next = make(at.lineage ?? 'crash-lineage', at.serial + 1);
  const run = { id: 'run-' + next.serial + '-' + process.pid, command: 'apply', who: 'w', host: 'h', startedAt: new Date().toISOString(), finishedAt: null,
    configFingerprint: 'c', gitCommit: null, serialBefore: at.serial, serialAfter: null, summary: null, outcome: 'running', message: null };
  await store.recordRun(run);
  await store.write(next, at, [{ runId: run.id, seq: 0, at: run.startedAt, kind: 'user', action: 'update', userId: 'u0', login: 'user0@example.com', app: null, key: null, attributes: null, outcome: 'done', message: null }]);
  at = { lineage: next.lineage, serial: next.serial };
  process.stdout.write('wrote ' + at.serial + '\\n');
}
`;

/** Starts the writer and SIGKILLs it `delay` ms after it is ready: the last serial it reported written. */
async function runAndKill(script: string, delay: number): Promise<{ acked: number; started: number }> {
  const child = spawn(process.execPath, [script, dir, String(USERS)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const closed = once(child, 'close');
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', () => out.includes('\n') && resolve());
      child.on('exit', (code) => reject(new Error(`writer exited early (${code}); stderr: ${err}`)));
    });
    // The fault: a kill at a random instant of whatever the writer is doing then.
    await new Promise((resolve) => setTimeout(resolve, delay));
    expect(child.exitCode, err).toBeNull(); // still writing: no failure of its own
    child.kill('SIGKILL');
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await closed;
  }
  expect(child.signalCode).toBe('SIGKILL');
  const started = Number(/^ready (\d+)$/m.exec(out)![1]);
  const writes = [...out.matchAll(/^wrote (\d+)$/gm)].map((m) => Number(m[1]));
  return { acked: writes.length > 0 ? writes.at(-1)! : started, started };
}

function check(file: string): { integrity: string; serial: number } {
  const db = new DatabaseSync(file);
  try {
    return { integrity: (db.prepare('PRAGMA integrity_check').get() as { integrity_check: string }).integrity_check, serial: (db.prepare('SELECT serial FROM meta').get() as { serial: number }).serial };
  } finally {
    db.close();
  }
}

describe('EmbeddedStore crash safety', () => {
  it('never leaves a torn state or backup when the writer is killed at random moments', async () => {
    const script = join(root, 'writer.mts');
    await writeFile(script, WRITER);
    let expectedSerial = 0;
    let completedWrites = 0;
    for (let kill = 0; kill < KILLS; kill++) {
      const { acked, started } = await runAndKill(script, 20 + Math.floor(Math.random() * 481));
      expect(started).toBe(expectedSerial);
      completedWrites += acked - started;
      const store = new EmbeddedStore({ dir });
      const read = await store.read();
      await store.close();
      // Every acknowledged write is there; at most the one in flight (committed, not yet reported) is too.
      expect([acked, acked + 1]).toContain(read.serial);
      if (read.serial > 0) {
        const version = read.serial % 2;
        expect(read.users).toHaveLength(USERS);
        const wrong = read.users.filter((u, i) => u.id !== `u${i}` || u.profile.version !== version || u.status !== (version ? 'ACTIVE' : 'SUSPENDED') || u.profile.note !== `line\nbreak ${read.serial}`);
        expect(wrong).toEqual([]);
        expect(read.imported).toEqual(new Map([['hr', { columns: ['version'], records: new Map([['k', { values: JSON.stringify([String(version)]), disabled: false }]]) }]]));
        expect(read.edited).toBe(false);
        expect(check(join(dir, 'state.db')).integrity).toBe('ok');
      }
      const files = await readdir(dir).catch((): string[] => []);
      if (files.includes('state.db.backup')) {
        const backup = check(join(dir, 'state.db.backup'));
        expect(backup.integrity).toBe('ok');
        // Taken before the write of the next serial: the generation before, or (killed after the backup, before the commit) the current one.
        expect([read.serial - 1, read.serial]).toContain(backup.serial);
      }
      expectedSerial = read.serial;
    }
    // The run must have exercised the store: writes completed between the kills.
    expect(completedWrites).toBeGreaterThan(0);
    expect(expectedSerial).toBeGreaterThan(1);
  }, 120_000);
});
