import { describe, expect, it } from 'vitest';
import { checkedUser, DamagedRecordError, parsedUser, userRecordProblem } from './record-check.ts';
import { StateFormatError } from './types.ts';

const good = { id: 'u-1', login: 'ada@example.com', status: 'ACTIVE', profile: { title: 'Engineer' }, profileSource: 'hr', roles: ['super_admin'] };

describe('user records read back from a store', () => {
  it('takes a record idplane could have written', () => {
    expect(userRecordProblem(good)).toBeNull();
    expect(checkedUser(good, () => 'x')).toBe(good);
  });

  it.each([
    [null, 'it is not an object'],
    [[good], 'it is not an object'],
    [{ ...good, id: '' }, 'it has no id'],
    [{ ...good, login: 7 }, 'it has no login'],
    [{ ...good, status: 'ACTIVF' }, 'its status "ACTIVF" is not one of STAGED, PROVISIONED, ACTIVE, SUSPENDED, DEPROVISIONED'],
    [{ ...good, status: undefined }, 'it has no status'],
    [{ id: 'u-1', login: 'a', status: 'ACTIVE', rrofile: {}, profileSource: 'hr', roles: [] }, 'it has no profile'],
    [{ ...good, profile: ['x'] }, 'it has no profile'],
    [{ ...good, profileSource: null }, 'it has no profile source'],
    [{ ...good, roles: null }, 'it has no roles list'],
    [{ ...good, roles: ['ok', 3] }, 'its roles hold 3, which is not a role name'],
  ])('refuses %j: %s', (value, problem) => {
    expect(userRecordProblem(value)).toBe(problem);
    const error = (() => {
      try {
        checkedUser(value, () => 'position 4 of users', 'Restore it.');
      } catch (e) {
        return e as Error;
      }
      throw new Error('not refused');
    })();
    expect(error).toBeInstanceOf(DamagedRecordError);
    expect(error).toBeInstanceOf(StateFormatError);
    expect(error.message).toMatch(new RegExp(`^the user record at position 4 of users.* is not a valid record: ${problem.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}; the state is damaged\\. Restore it\\.$`));
  });

  it('calls text that is not JSON damage too, naming the place', () => {
    expect(() => parsedUser('{"id":"u-1"', () => 'position 9 of users')).toThrow(/^the user record at position 9 of users is not valid JSON \(.*\); the state is damaged$/);
    expect(parsedUser(JSON.stringify(good), () => 'x')).toEqual(good);
  });
});
