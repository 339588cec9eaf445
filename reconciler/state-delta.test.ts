/**
 * The state delta: the in-place form (for the long-running server) must give exactly what the copying
 * form gives, content and order, over long random sequences of plans (users created and replaced, links
 * set, moved and removed, records written, refreshed and forgotten, columns added), and the copying form
 * keeps every unchanged object by reference.
 */
import { describe, expect, it } from 'vitest';
import type { LinkChange, UserChange } from '../schemas/generated/plan.ts';
import { emptyState, type DirectoryState } from './model.ts';
import { random, randomChanges } from './testing.ts';
import { applyStateDelta, applyStateDeltaInPlace, stateDelta, statePositions } from './state-delta.ts';

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
