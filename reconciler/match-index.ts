/**
 * Hash indexes over directory users, one per matching rule, built on first use; and the matching
 * outcome for one account: exact rules in order, then partial rules. The first rule that finds anyone
 * decides. Several users found is ambiguous, never a guess.
 */
import type { CompiledMatchRule } from './match-rules.ts';
import type { UserRecord } from './model.ts';

export type MatchResult =
  | { kind: 'none' }
  | { kind: 'match'; rule: CompiledMatchRule; user: UserRecord }
  | { kind: 'ambiguous'; rule: CompiledMatchRule; users: UserRecord[] }
  | { kind: 'partial'; rule: CompiledMatchRule; users: UserRecord[] };

export class MatchIndexes {
  private readonly built = new Map<string, { rule: CompiledMatchRule; index: Map<string, UserRecord[]> }>();
  private readonly users: readonly UserRecord[];
  /** Users created in this run, after `users`. */
  private readonly added: UserRecord[] = [];

  constructor(users: readonly UserRecord[]) {
    this.users = users;
  }

  /** Adds a user created in this run to every index built so far (later indexes include it anyway). */
  add(user: UserRecord): void {
    this.added.push(user);
    for (const { rule, index } of this.built.values()) insert(index, rule.userKey(user), user);
  }

  match(rules: CompiledMatchRule[], attributes: Record<string, string>): MatchResult {
    for (const partial of [false, true]) {
      for (const rule of rules) {
        if (rule.partial !== partial) continue;
        const key = rule.accountKey(attributes);
        if (key === null) continue;
        const found = this.index(rule).get(key);
        if (!found || found.length === 0) continue;
        if (partial) return { kind: 'partial', rule, users: found };
        return found.length === 1 ? { kind: 'match', rule, user: found[0]! } : { kind: 'ambiguous', rule, users: found };
      }
    }
    return { kind: 'none' };
  }

  private index(rule: CompiledMatchRule): Map<string, UserRecord[]> {
    const cached = this.built.get(rule.id);
    if (cached) return cached.index;
    const index = new Map<string, UserRecord[]>();
    for (const user of this.users) insert(index, rule.userKey(user), user);
    for (const user of this.added) insert(index, rule.userKey(user), user);
    this.built.set(rule.id, { rule, index });
    return index;
  }
}

function insert(index: Map<string, UserRecord[]>, key: string | null, user: UserRecord): void {
  if (key === null) return;
  const list = index.get(key);
  if (list) list.push(user);
  else index.set(key, [user]);
}
