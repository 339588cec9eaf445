/**
 * Which Okta lifecycle operations move a user from their current status to what a change wants, by
 * Okta's rules (Users API, lifecycle operations). Pure: no I/O.
 * - enable: STAGED and DEPROVISIONED users are activated (`activate` is the only operation Okta allows
 *   on them; `reactivate` is for PROVISIONED/RECOVERY users and only resends the activation); a SUSPENDED
 *   user is unsuspended; any other status is already enabled (see isEnabled), so nothing is sent.
 * - disable: every user not DEPROVISIONED is deactivated; a DEPROVISIONED user already is.
 * - suspend (a disable whose directory user is SUSPENDED): an ACTIVE user is suspended, keeping their
 *   assignments; a SUSPENDED or DEPROVISIONED user already cannot sign in; any other status cannot be
 *   suspended in Okta (only ACTIVE users can), so the user is deactivated, as a STAGED user whose
 *   source suspends them is deactivated in the directory.
 * - delete: Okta deletes only DEPROVISIONED users, so a user in any other status is deactivated first.
 * Each operation's request: activate and deactivate with sendEmail=false (idplane sends no mail of its
 * own; Okta's own create-with-activation mail is the org's policy), suspend, unsuspend, and DELETE for
 * delete.
 */
import type { OktaStatus } from './profile.ts';

export type Goal = 'enable' | 'disable' | 'suspend' | 'delete';
export type Operation = 'activate' | 'unsuspend' | 'suspend' | 'deactivate' | 'delete';

export function operationsFor(goal: Goal, status: OktaStatus): Operation[] {
  switch (goal) {
    case 'enable':
      return status === 'STAGED' || status === 'DEPROVISIONED' ? ['activate'] : status === 'SUSPENDED' ? ['unsuspend'] : [];
    case 'disable':
      return status === 'DEPROVISIONED' ? [] : ['deactivate'];
    case 'suspend':
      return status === 'ACTIVE' ? ['suspend'] : status === 'SUSPENDED' || status === 'DEPROVISIONED' ? [] : ['deactivate'];
    case 'delete':
      return status === 'DEPROVISIONED' ? ['delete'] : ['deactivate', 'delete'];
    default: {
      const never: never = goal;
      throw new Error(`unknown lifecycle goal ${String(never)}`);
    }
  }
}

export interface OperationRequest {
  method: 'POST' | 'DELETE';
  /** Below /api/v1. */
  path: string;
  query: Record<string, string>;
}

export function requestOf(operation: Operation, id: string): OperationRequest {
  const user = `/users/${encodeURIComponent(id)}`;
  switch (operation) {
    case 'activate': return { method: 'POST', path: `${user}/lifecycle/activate`, query: { sendEmail: 'false' } };
    case 'unsuspend': return { method: 'POST', path: `${user}/lifecycle/unsuspend`, query: {} };
    case 'suspend': return { method: 'POST', path: `${user}/lifecycle/suspend`, query: {} };
    case 'deactivate': return { method: 'POST', path: `${user}/lifecycle/deactivate`, query: { sendEmail: 'false' } };
    case 'delete': return { method: 'DELETE', path: user, query: {} };
    default: {
      const never: never = operation;
      throw new Error(`unknown lifecycle operation ${String(never)}`);
    }
  }
}
