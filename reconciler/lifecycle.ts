/**
 * Stage 6, lifecycle: the user's desired status, following Okta's statuses and transitions (SPEC §1.3).
 * Only the primary profile source drives it. A disabled account applies that source's onDisabled; a user
 * whose last source vanished from a full import gets that source's onMissing; an enabled account may
 * reactivate per `reactivate`. A STAGED user cannot be suspended and is deactivated instead. Protected
 * users are never deactivated or suspended by an import: the transition is blocked and reported.
 */
import type { CompiledImport, DisabledPolicy, UserStatus } from './model.ts';

export type Transition = 'activate' | 'deactivate' | 'suspend' | 'unsuspend';

export interface LifecycleInput {
  /** Stored status, or null for a user this run creates. */
  current: UserStatus | null;
  /** The primary source's import policy, or null when the directory sources the user. */
  policy: CompiledImport | null;
  /** Whether the primary source's account is disabled. */
  disabled: boolean;
  /** The onMissing policy and app when the user's last source vanished in this run. */
  vanished: { app: string; policy: DisabledPolicy } | null;
  /** Status a declared user asks for. */
  declaredStatus: UserStatus | null;
  isProtected: boolean;
}

export interface LifecycleOutcome {
  status: UserStatus;
  reason: string | null;
  /** A deactivation or suspension that protection stopped. */
  blocked: { transition: Transition; reason: string } | null;
}

export function transitionOf(from: UserStatus, to: UserStatus): Transition | null {
  if (from === to) return null;
  if (to === 'DEPROVISIONED') return 'deactivate';
  if (to === 'SUSPENDED') return from === 'ACTIVE' ? 'suspend' : null;
  if (to === 'ACTIVE') return from === 'SUSPENDED' ? 'unsuspend' : 'activate';
  return null;
}

export function computeLifecycle(input: LifecycleInput): LifecycleOutcome {
  const wanted = desired(input);
  const from = input.current;
  if (from === null || wanted.status === from) return settled(wanted.status, wanted.reason);
  const transition = transitionOf(from, wanted.status);
  if (input.isProtected && (transition === 'deactivate' || transition === 'suspend')) {
    return { status: from, reason: null, blocked: { transition, reason: `protected user; the import would ${transition} them: ${wanted.reason ?? transition}` } };
  }
  return settled(wanted.status, wanted.reason);
}

/** Outcomes without a blocked transition are few and the same for many users: one frozen object each. */
const outcomes = new Map<string, LifecycleOutcome>();
function settled(status: UserStatus, reason: string | null): LifecycleOutcome {
  const key = reason === null ? status : `${status}\u0000${reason}`;
  let outcome = outcomes.get(key);
  if (!outcome) {
    outcome = Object.freeze({ status, reason, blocked: null });
    if (outcomes.size < 10_000) outcomes.set(key, outcome);
  }
  return outcome;
}

function desired(input: LifecycleInput): { status: UserStatus; reason: string | null } {
  if (input.declaredStatus) return { status: input.declaredStatus, reason: 'declared in the config' };
  if (input.vanished) return applyPolicy(input.current, input.vanished.policy, `account vanished from ${input.vanished.app}`);
  const policy = input.policy;
  if (!policy) return { status: input.current ?? 'ACTIVE', reason: null };
  if (input.current === null) {
    if (input.disabled && policy.onDisabled !== 'none') return applyPolicy('STAGED', policy.onDisabled, 'account is disabled at the source');
    return { status: policy.newUserStatus, reason: `new user (newUserStatus ${policy.newUserStatus})` };
  }
  if (input.disabled) return applyPolicy(input.current, policy.onDisabled, 'account is disabled at the source');
  if (input.current === 'SUSPENDED' && policy.reactivate.suspended) return { status: 'ACTIVE', reason: 'account is enabled again (reactivate.suspended)' };
  if (input.current === 'DEPROVISIONED' && policy.reactivate.deactivated) return { status: 'ACTIVE', reason: 'account is enabled again (reactivate.deactivated)' };
  return { status: input.current, reason: null };
}

function applyPolicy(current: UserStatus | null, policy: DisabledPolicy, why: string): { status: UserStatus; reason: string | null } {
  const status: UserStatus = current ?? 'STAGED';
  switch (policy) {
    case 'none':
      return { status, reason: null };
    case 'deactivate':
      return status === 'DEPROVISIONED' ? { status, reason: null } : { status: 'DEPROVISIONED', reason: `${why} (deactivate)` };
    case 'suspend':
      if (status === 'ACTIVE') return { status: 'SUSPENDED', reason: `${why} (suspend)` };
      if (status === 'STAGED' || status === 'PROVISIONED') return { status: 'DEPROVISIONED', reason: `${why}: a ${status} user cannot be suspended, so it is deactivated instead` };
      return { status, reason: null };
    default: {
      const never: never = policy;
      throw new Error(`unknown policy ${String(never)}`);
    }
  }
}
