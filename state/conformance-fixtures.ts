/**
 * The data the state conformance suite (state/conformance.ts) writes and reads, also used by the
 * backend-specific tests: a sample state exercising every field (unicode, multi-line, tabbed and quoted
 * text, every profile value type, Object.prototype names as apps, account keys and columns, an app
 * without records), next states built from a read one the way apply builds them, journal entries and runs.
 */
import { expect } from 'vitest';
import type { UserRecord } from '../schemas/generated/plan.ts';
import type { AppRecords, DirectoryState } from '../reconciler/model.ts';
import { packValues } from '../reconciler/records.ts';
import type { ChangeRecord, RunRecord } from './types.ts';

export function user(i: number, extra: Partial<UserRecord> = {}): UserRecord {
  return {
    id: `u${i}`, login: `user${i}@example.com`, status: 'ACTIVE',
    profile: { firstName: `Zoë ${i}`, department: 'Engineering', employeeNumber: i, manager: i % 2 === 0, groups: ['all', `team-${i % 7}`] },
    profileSource: 'hr', roles: i % 10 === 0 ? ['admin'] : [], ...extra,
  };
}

/** An object whose keys are data: own properties even for "__proto__". */
export function own<T>(entries: [string, T][]): Record<string, T> {
  const target: Record<string, T> = {};
  for (const [key, value] of entries) Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  return target;
}

/** One app's records, packed from attribute objects as an import would store them. */
export function appRecords(columns: string[], records: [string, Record<string, string>, boolean?][]): AppRecords {
  return { columns, records: new Map(records.map(([key, attributes, disabled]) => [key, { values: packValues(columns, attributes), disabled: disabled === true }])) };
}

const HR_COLUMNS = ['first_name', 'note', '__proto__', 'constructor', 'never_set'];

/**
 * A state exercising every field: unicode, multi-line, tabbed and quoted text, all profile value types,
 * keys that are Object.prototype names ("__proto__", "constructor") as apps, account keys and columns, an
 * app without records, a pipeline fingerprint.
 */
export function sampleState(serial = 1, lineage: string | null = 'lineage-a'): DirectoryState {
  return {
    lineage, serial,
    users: [
      user(0, { login: 'zoë.ångström@example.com', profile: { name: 'Zoë Ångström 日本語 👩‍💻', note: 'line 1\nline 2\t"quoted" \\ back', empty: '', n: 1.5, neg: -3, flag: false, list: ['a', 'b "c"', 'd\\e', ''] }, roles: ['admin', 'role with "quotes"', 'back\\slash', 'comma,brace}{'] }),
      user(1, { status: 'SUSPENDED', profile: {}, profileSource: 'directory' }),
      user(2, { status: 'STAGED' }),
    ],
    links: [{ app: 'hr', key: '1001', userId: 'u0' }, { app: 'ldap', key: 'cn=Zoë,ou=People', userId: 'u0' }, { app: 'hr', key: '1002', userId: 'u1' }],
    imported: new Map([
      ['hr', appRecords(HR_COLUMNS, [
        ['1001', { first_name: 'Zoë', note: 'a\nb\t"c" \\ d 日本語 👩‍💻' }],
        ['constructor', { first_name: 'Con' }, true],
        ['__proto__', own([['__proto__', 'not a prototype'], ['constructor', 'data']])],
        ['toString', {}],
        ['tab\tkey\\with "quotes"\nand a line', { note: 'x' }],
      ])],
      ['constructor', appRecords(['x'], [['hasOwnProperty', { x: 'y' }]])],
      ['__proto__', appRecords(['__proto__'], [['__proto__', own([['__proto__', 'p']])]])],
      ['ldap-ünï', appRecords(['cn', 'mail'], [['cn=Zoë,ou=People', { cn: 'Zoë', mail: '' }, true]])],
      ['empty', appRecords(['a', 'b'], [])],
    ]),
    watermarks: { hr: '2024-06-01T10:00:00Z', ldap: '20240601100000.0Z' },
    pipeline: 'sha256:0f3c9a', edited: false, digest: null,
  };
}

/** What a read returns after `state` was written: the same, with the digest the store set. */
export function asRead(state: DirectoryState): DirectoryState {
  return { ...state, digest: expect.any(String) as unknown as string };
}

export function change(runId: string, seq: number, login: string, patch: Partial<ChangeRecord> = {}): ChangeRecord {
  return {
    runId, seq, at: '2024-06-01T10:00:00.000Z', kind: 'user', action: 'update', userId: `id-${login}`, login, app: null, key: null,
    attributes: { department: { from: 'Sales', to: 'Engineering ✓' } }, outcome: 'done', message: null, ...patch,
  };
}

export function run(id: string, startedAt: string, patch: Partial<RunRecord> = {}): RunRecord {
  return {
    id, command: 'apply', who: 'alice', host: 'ci-runner-7', startedAt, finishedAt: null, configFingerprint: 'sha256:abc',
    gitCommit: '0123456789abcdef0123456789abcdef01234567', serialBefore: 0, serialAfter: null, summary: null, outcome: 'running', message: null, ...patch,
  };
}

/** A next state made the way apply makes it: unchanged objects kept by reference, changed ones replaced. */
export function evolve(state: DirectoryState, step: number): DirectoryState {
  const users = state.users.filter((u) => u.id !== `u${step}`).map((u, i) => (i % 3 === step % 3 ? { ...u, profile: { ...u.profile, step } } : u));
  users.push(user(1000 + step));
  const imported = new Map(state.imported);
  const hr = imported.get('hr');
  const columns = [...(hr?.columns ?? []), ...(hr?.columns.includes('step') ? [] : ['step'])];
  const records = new Map(hr?.records);
  records.set(`new-${step}`, { values: packValues(columns, { step: String(step) }), disabled: false });
  records.delete('1001');
  records.set('constructor', { values: packValues(columns, { first_name: `Con ${step}` }), disabled: step % 2 === 0 });
  imported.set('hr', { columns, records });
  if (step === 2) imported.delete('__proto__');
  return {
    ...state, serial: state.serial + 1, users,
    links: [...state.links.filter((l) => l.key !== '1001'), { app: 'hr', key: `k${step}`, userId: 'u2' }],
    imported, watermarks: { ...state.watermarks, hr: `2024-06-0${step + 1}T00:00:00Z` }, pipeline: `sha256:step-${step}`, digest: null,
  };
}
