/**
 * The state delta: the in-place form (for the long-running server) must give exactly what the copying
 * form gives, content and order, over long random sequences of plans (users created and replaced, links
 * set, moved and removed, records written, refreshed and forgotten, columns added), and the copying form
 * keeps every unchanged object by reference.
 */
import { describe, expect, it } from 'vitest';
import type { ImportChange, LinkChange, UserChange } from '../schemas/generated/plan.ts';
import { emptyState, type DirectoryState, type UserRecord } from './model.ts';
import { applyStateDelta, applyStateDeltaInPlace, stateDelta, statePositions, type DirectoryChanges } from './state-delta.ts';

/** A small deterministic PRNG (mulberry32), so a failure can be replayed from its seed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const APPS = ['hr', 'ad', 'crm'];

/** A plan's directory changes drawn at random against `state` (ids from a small pool, so they collide). */
function randomChanges(state: DirectoryState, next: () => number, round: number): DirectoryChanges {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!;
  const users: UserChange[] = [];
  const seen = new Set<string>();
  for (let i = 0, n = Math.floor(next() * 6); i < n; i++) {
    const id = `u${Math.floor(next() * 40)}`;
    if (seen.has(id)) continue;
    seen.add(id);
    const after: UserRecord = { id, login: `${id}@example.com`, status: pick(['ACTIVE', 'SUSPENDED', 'DEPROVISIONED'] as const), profile: { title: `t${round}-${i}` }, profileSource: pick(APPS), roles: [] };
    users.push({ action: 'update', id, login: after.login, before: null, after, reason: '' } as UserChange);
  }
  const links: LinkChange[] = [];
  for (let i = 0, n = Math.floor(next() * 6); i < n; i++) {
    const app = pick(APPS);
    const key = `k${Math.floor(next() * 30)}`;
    const existing = state.links.find((l) => l.app === app && l.key === key);
    const unlink = existing !== undefined && next() < 0.5;
    links.push({ action: unlink ? 'unlink' : 'link', app, key, userId: unlink && next() < 0.8 ? existing.userId : `u${Math.floor(next() * 40)}`, login: 'x', reason: '' } as LinkChange);
  }
  links.sort((a, b) => (a.app < b.app ? -1 : a.app > b.app ? 1 : a.key < b.key ? -1 : a.key > b.key ? 1 : a.action < b.action ? -1 : 1));
  const imports: ImportChange[] = [];
  for (let i = 0, n = Math.floor(next() * 6); i < n; i++) {
    const app = pick(APPS);
    const key = `k${Math.floor(next() * 30)}`;
    if (next() < 0.3) imports.push({ action: 'forget', app, key } as ImportChange);
    else imports.push({ action: 'record', app, key, attributes: { id: key, [`c${Math.floor(next() * 5)}`]: `v${round}` }, disabled: next() < 0.2 } as ImportChange);
  }
  return {
    users, links, imports,
    watermarks: next() < 0.3 ? [{ app: pick(APPS), from: null, to: `w${round}` }] : [],
    evaluated: next() < 0.2 ? 'all' : 'changed',
    fingerprints: { config: 'c', pipeline: `p${round}`, inputs: {}, targets: {} },
  };
}

/** The state as plain data, order included (the maps become lists). */
function plain(state: DirectoryState): unknown {
  return { ...state, imported: [...state.imported].map(([app, r]) => [app, r.columns, [...r.records]]) };
}

describe('state delta', () => {
  it('in place gives the same state, in the same order, as the copying form, over random plans', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const next = random(seed);
      let copied: DirectoryState = emptyState();
      const owned: DirectoryState = emptyState();
      const positions = statePositions(owned);
      for (let round = 0; round < 60; round++) {
        const changes = randomChanges(copied, next, round);
        const delta = stateDelta(copied, changes, `lineage-${seed}`);
        copied = applyStateDelta(copied, delta);
        applyStateDeltaInPlace(owned, delta, positions);
        expect(plain(owned), `seed ${seed}, round ${round}`).toEqual(plain(copied));
        expect(positions).toEqual(statePositions(copied));
      }
      expect(copied.users.length).toBeGreaterThan(10);
      expect(copied.links.length).toBeGreaterThan(10);
    }
  });

  it('keeps unchanged users, links and untouched apps by reference, and counts the serial on', () => {
    const next = random(7);
    let state: DirectoryState = emptyState();
    for (let round = 0; round < 20; round++) state = applyStateDelta(state, stateDelta(state, randomChanges(state, next, round), 'L'));
    const user = state.users[0]!;
    const delta = stateDelta(state, { users: [{ action: 'update', id: user.id, login: user.login, before: user, after: { ...user, status: 'SUSPENDED' }, reason: '' } as UserChange], links: [], imports: [], watermarks: [], evaluated: 'changed', fingerprints: { config: 'c', pipeline: 'p', inputs: {}, targets: {} } }, 'other');
    const after = applyStateDelta(state, delta);
    expect(after.users[0]).not.toBe(user);
    expect(after.users.slice(1).every((u, i) => u === state.users[i + 1])).toBe(true);
    expect(after.links.every((l, i) => l === state.links[i])).toBe(true);
    expect(after.imported).toBe(state.imported);
    expect(after).toMatchObject({ lineage: state.lineage, serial: state.serial + 1, digest: null });
  });

  it('removes a link only from the user the unlink names', () => {
    const state: DirectoryState = { ...emptyState(), lineage: 'L', serial: 3, links: [{ app: 'hr', key: '1', userId: 'u2' }] };
    const stale = stateDelta(state, { users: [], links: [{ action: 'unlink', app: 'hr', key: '1', userId: 'u1', login: 'x', reason: '' } as LinkChange], imports: [], watermarks: [], evaluated: 'changed', fingerprints: { config: 'c', pipeline: 'p', inputs: {}, targets: {} } }, 'L');
    expect(stale.links).toEqual([]);
    expect(applyStateDelta(state, stale).links).toEqual(state.links);
  });
});
