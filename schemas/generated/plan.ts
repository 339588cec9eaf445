/* Generated from schemas/plan.schema.json by json-schema-to-typescript. Do not edit: run `npm run gen:types`. */

/**
 * Okta-style lifecycle status.
 */
export type UserStatus = 'STAGED' | 'PROVISIONED' | 'ACTIVE' | 'SUSPENDED' | 'DEPROVISIONED';
/**
 * A profile value: a string, number, boolean or list of strings.
 */
export type ProfileValue = string | number | boolean | string[];
/**
 * Okta-style lifecycle status.
 */
export type UserStatus1 = 'STAGED' | 'PROVISIONED' | 'ACTIVE' | 'SUSPENDED' | 'DEPROVISIONED';

/**
 * A reviewable idplane plan: every directory change, link and imported-account record that `apply` will write, computed against one state serial. Renderers (text, JSON, Markdown) read only this document; `reason` fields explain and never steer apply. On disk (`plan --out`) the same content is stored as a stream: see plan-stream.schema.json.
 */
export interface Plan {
  /**
   * Plan format version. Apply refuses a version it does not know.
   */
  format_version: '2';
  /**
   * The idplane version that made the plan.
   */
  idplane_version: string;
  /**
   * When the plan was made (ISO 8601). Set by the CLI.
   */
  created_at?: string;
  state: PlanStateRef;
  fingerprints: PlanFingerprints;
  /**
   * The directory attributes whose values shared views (Markdown) show as they are (attributes with sensitive: false, by default title, department, status and the like); every other value, and every login and account key, is masked there. Absent: everything is masked.
   */
  unmaskedAttributes?: string[];
  /**
   * `all`: every user was evaluated (first plan, a changed config, or a state edited outside idplane). `changed`: only users whose accounts changed since the last import, or whom the config singles out (declared, protected, set:); the others keep their records, which this same config produced.
   */
  evaluated: 'all' | 'changed';
  summary: PlanSummary;
  /**
   * Directory user changes, ordered by login.
   */
  users: UserChange[];
  /**
   * Account-to-user links to add or remove.
   */
  links: LinkChange[];
  /**
   * Imported-account records to store (the last imported values per account, used to detect changes at the source).
   */
  imports: ImportChange[];
  /**
   * Accounts waiting for a decision in the config. Listed, not applied, and they do not block the plan.
   */
  reviews: ReviewItem[];
  /**
   * Problems idplane refuses to guess about. Any conflict makes the plan not applyable.
   */
  conflicts: PlanIssue[];
  /**
   * Problems that do not block the plan (for example CSV rows that could not be read).
   */
  warnings: PlanIssue[];
  /**
   * False when apply must refuse the plan; blockers say why.
   */
  applyable: boolean;
  /**
   * Why the plan is not applyable.
   */
  blockers: PlanBlocker[];
  /**
   * Every safeguard evaluated, tripped or not.
   */
  safeguards: SafeguardVerdict[];
  /**
   * Each plan policy of the config (`policies:`), evaluated over this plan's changes.
   */
  policies?: PolicyVerdict[];
  /**
   * Apps this plan leaves out because they could not be read (`onUnreachable: skip`, the default for targets): nothing of theirs is planned, so nothing of theirs is lost; the next plan that can read them plans them. `plan` exits 4 when this is not empty and the plan is otherwise applyable.
   */
  notPlanned?: NotPlannedApp[];
  /**
   * Incremental-import watermarks to store.
   */
  watermarks: WatermarkChange[];
  /**
   * Account changes in provisioning targets, ordered by app and key. Applied after the directory changes.
   */
  accounts: AccountChange[];
}
/**
 * The state the plan was computed against. Apply refuses the plan when the state's lineage, serial or digest differ (a stale plan).
 */
export interface PlanStateRef {
  /**
   * The state's lineage, or null for a state that was never written.
   */
  lineage: string | null;
  /**
   * The state's serial; every apply increments it.
   */
  serial: number;
  /**
   * The store's digest of the stored content the plan was computed from (an edit made outside idplane changes it), or null for a state never written.
   */
  digest: string | null;
}
/**
 * SHA-256 fingerprints of what the plan was computed from.
 */
export interface PlanFingerprints {
  /**
   * The resolved config.
   */
  config: string;
  /**
   * Each import source's data, by app. Apply of a saved plan refuses it (stale) when a source's data no longer has this fingerprint.
   */
  inputs: {
    [k: string]: string;
  };
  /**
   * Each provisioning target's accounts as read when the plan was made, by app. Apply of a saved plan refuses it (stale) when a target's accounts changed since: the account changes were computed from them.
   */
  targets?: {
    [k: string]: string;
  };
  /**
   * The config parts that decide a user's record from their accounts (attributes, profile sources, imports, declared users, links, set:, protection). Stored with the state by apply when `evaluated` is `all`.
   */
  pipeline: string;
}
/**
 * Counts of everything in the plan.
 */
export interface PlanSummary {
  users: UserActionCounts;
  links: LinkActionCounts;
  /**
   * Imported-account records written or removed.
   */
  imports: number;
  /**
   * Review items.
   */
  reviews: number;
  /**
   * Conflicts.
   */
  conflicts: number;
  /**
   * Warnings.
   */
  warnings: number;
  /**
   * User, link and target account changes: zero means nothing to do for people (imported records may still be refreshed).
   */
  changes: number;
  /**
   * Attribute values changed outside idplane that the plan restores.
   */
  outOfBand: number;
  /**
   * User changes counted by action, status after the plan and profile source, the largest first: what a first import creates DEPROVISIONED (terminated rows) shows here.
   */
  breakdown?: {
    action: string;
    status: string;
    source: string;
    count: number;
  }[];
  /**
   * Users this plan gives the super_admin role to, or takes it from (by login, ordered): called out at the top of every rendering. Absent when there are none.
   */
  superAdmin?: {
    granted: string[];
    removed: string[];
  };
  /**
   * Sources whose unreadable rows held something back (their held-back warnings say what): the plan does not show that the directory matches them.
   */
  heldBack?: number;
  accounts: AccountActionCounts;
}
/**
 * User changes by action.
 */
export interface UserActionCounts {
  /**
   * Users created.
   */
  create: number;
  /**
   * Users whose attributes or source change, with no status change.
   */
  update: number;
  /**
   * STAGED or DEPROVISIONED users made ACTIVE.
   */
  activate: number;
  /**
   * Users made DEPROVISIONED.
   */
  deactivate: number;
  /**
   * ACTIVE users made SUSPENDED.
   */
  suspend: number;
  /**
   * SUSPENDED users made ACTIVE.
   */
  unsuspend: number;
}
/**
 * Link changes by action.
 */
export interface LinkActionCounts {
  /**
   * Accounts linked.
   */
  link: number;
  /**
   * Accounts unlinked.
   */
  unlink: number;
}
/**
 * Target account changes by action.
 */
export interface AccountActionCounts {
  /**
   * Accounts created.
   */
  create: number;
  /**
   * Accounts updated.
   */
  update: number;
  /**
   * Accounts disabled.
   */
  disable: number;
  /**
   * Accounts enabled.
   */
  enable: number;
  /**
   * Accounts deleted.
   */
  delete: number;
  /**
   * Existing accounts linked without a write.
   */
  link: number;
}
/**
 * One directory user to create or change. `after` is written as is by apply.
 */
export interface UserChange {
  /**
   * create, update (attributes/source only), or the lifecycle transition: activate, deactivate, suspend, unsuspend.
   */
  action: 'create' | 'update' | 'activate' | 'deactivate' | 'suspend' | 'unsuspend';
  /**
   * The user's id.
   */
  id: string;
  /**
   * The user's login after the change.
   */
  login: string;
  /**
   * The stored user, or null for create.
   */
  before: null | UserRecord;
  after: UserRecord;
  /**
   * Changed profile attributes. Omitted for `create`: every attribute of `after.profile` is new.
   */
  attributes?: {
    [k: string]: ValueChange;
  };
  status?: ValueChange1;
  source?: ValueChange2;
  /**
   * Why (display only).
   */
  reason: string;
}
/**
 * A directory user as stored.
 */
export interface UserRecord {
  /**
   * Immutable id.
   */
  id: string;
  /**
   * Unique login.
   */
  login: string;
  status: UserStatus;
  /**
   * Profile attributes; unset attributes are absent.
   */
  profile: {
    [k: string]: ProfileValue;
  };
  /**
   * The app that sources the user, or `directory`.
   */
  profileSource: string;
  /**
   * Roles.
   */
  roles: string[];
}
/**
 * One attribute's old and new value; null means unset.
 */
export interface ValueChange {
  /**
   * Before; null means unset.
   */
  from: null | ProfileValue;
  /**
   * After; null means unset.
   */
  to: null | ProfileValue;
  /**
   * The stored value was changed outside idplane; the source's value is restored.
   */
  outOfBand?: boolean;
}
/**
 * One attribute's old and new value; null means unset.
 */
export interface ValueChange1 {
  /**
   * Before; null means unset.
   */
  from: null | ProfileValue;
  /**
   * After; null means unset.
   */
  to: null | ProfileValue;
  /**
   * The stored value was changed outside idplane; the source's value is restored.
   */
  outOfBand?: boolean;
}
/**
 * One attribute's old and new value; null means unset.
 */
export interface ValueChange2 {
  /**
   * Before; null means unset.
   */
  from: null | ProfileValue;
  /**
   * After; null means unset.
   */
  to: null | ProfileValue;
  /**
   * The stored value was changed outside idplane; the source's value is restored.
   */
  outOfBand?: boolean;
}
/**
 * An account link to add or remove.
 */
export interface LinkChange {
  /**
   * link or unlink.
   */
  action: 'link' | 'unlink';
  /**
   * App name.
   */
  app: string;
  /**
   * Account key.
   */
  key: string;
  /**
   * Directory user id.
   */
  userId: string;
  /**
   * Directory user login.
   */
  login: string;
  /**
   * Why (display only).
   */
  reason: string;
}
/**
 * The stored record of one imported account: written (record), replaced (refresh) or dropped (forget). A saved or printed plan lists which records change, not their values: apply reads the source again (its fingerprint must be the plan's) and records the values it reads.
 */
export interface ImportChange {
  /**
   * record a new account, refresh a changed one, forget a vanished one.
   */
  action: 'record' | 'refresh' | 'forget';
  /**
   * App name.
   */
  app: string;
  /**
   * Account key.
   */
  key: string;
  /**
   * The account's values as read (record and refresh). Held while planning and applying; left out of saved and printed plans.
   */
  attributes?: {
    [k: string]: string;
  };
  /**
   * Whether the account was disabled (record and refresh).
   */
  disabled?: boolean;
}
/**
 * An account that needs a decision written into the config.
 */
export interface ReviewItem {
  /**
   * match: an exact rule matched and onMatch is review. partial: a partial rule matched. no-match: nothing matched and onNoMatch is review.
   */
  kind: 'match' | 'partial' | 'no-match';
  /**
   * App name.
   */
  app: string;
  /**
   * Account key.
   */
  key: string;
  /**
   * Source line (CSV), when known.
   */
  line?: number;
  /**
   * Logins of the matched users.
   */
  candidates: string[];
  /**
   * What happened.
   */
  message: string;
  /**
   * What to add to the config to settle it.
   */
  resolution: string;
}
/**
 * A conflict or a warning.
 */
export interface PlanIssue {
  /**
   * Stable code.
   */
  code:
    | 'row-error'
    | 'duplicate-key'
    | 'ambiguous-match'
    | 'already-linked'
    | 'unique-violation'
    | 'missing-required'
    | 'invalid-value'
    | 'expression-error'
    | 'declared-user-match'
    | 'stale-link'
    | 'missing-suspended'
    | 'protected-user'
    | 'invalid-transition'
    | 'safeguard-overridden'
    | 'unknown-user'
    | 'target-skipped'
    | 'write-back-race'
    | 'state-edited'
    | 'held-back';
  /**
   * App name.
   */
  app?: string;
  /**
   * Account key.
   */
  key?: string;
  /**
   * Source line (CSV), when known.
   */
  line?: number;
  /**
   * Logins involved.
   */
  users?: string[];
  /**
   * Attribute involved.
   */
  attribute?: string;
  /**
   * What is wrong.
   */
  message: string;
  /**
   * How to settle it.
   */
  resolution?: string;
}
/**
 * One reason the plan may not be applied.
 */
export interface PlanBlocker {
  /**
   * conflicts: settle them in the config or the data. safeguard: a mass-change threshold tripped; `apply --allow-mass-change` lets it through. policy: a plan policy is broken; `apply --allow-policy NAME` (that policy, by name) lets it through.
   */
  code: 'conflicts' | 'safeguard' | 'policy';
  /**
   * What blocks.
   */
  message: string;
  /**
   * For code policy: the name of the broken policy.
   */
  policy?: string;
}
/**
 * One threshold checked against this plan.
 */
export interface SafeguardVerdict {
  /**
   * `all`, or the app name.
   */
  scope: string;
  /**
   * What is counted.
   */
  kind: 'deactivateUsers' | 'suspendUsers' | 'disableAccounts' | 'changeAccounts';
  /**
   * How many this plan would do.
   */
  count: number;
  /**
   * What a percentage is taken of.
   */
  base: number;
  /**
   * As configured: a count or a percentage.
   */
  threshold: number | string;
  /**
   * The largest count that passes.
   */
  limit: number;
  /**
   * count > limit.
   */
  tripped: boolean;
}
/**
 * How many of the plan's changes a policy matched, and whether that breaks it.
 */
export interface PolicyVerdict {
  /**
   * The policy's name.
   */
  name: string;
  /**
   * The policy's description, as configured.
   */
  description?: string;
  /**
   * How many matching changes the policy allows.
   */
  max: number;
  /**
   * How many changes matched `when` (or could not be evaluated).
   */
  matched: number;
  /**
   * matched > max, or `when` failed on a change.
   */
  broken: boolean;
  /**
   * The first matching changes (up to 10), as "user LOGIN: ACTION" or "APP/KEY (LOGIN): ACTION".
   */
  examples: string[];
  /**
   * The first changes `when` could not be evaluated for, with the reason (up to 10).
   */
  errors?: string[];
}
/**
 * An app left out of the plan, and why.
 */
export interface NotPlannedApp {
  app: string;
  /**
   * source: an import source (its users keep their last imported values; no lifecycle change comes from it); target: a provisioning target (no account change for it).
   */
  role: 'source' | 'target';
  /**
   * What could not be done, e.g. `read accounts`.
   */
  operation: string;
  /**
   * The provider's error, naming the place (file, server) and the cause; never a credential.
   */
  reason: string;
}
/**
 * The new watermark of an incremental import.
 */
export interface WatermarkChange {
  /**
   * App name.
   */
  app: string;
  /**
   * Stored watermark, or null.
   */
  from: string | null;
  /**
   * New watermark.
   */
  to: string;
}
/**
 * One account to write in a provisioning target.
 */
export interface AccountChange {
  /**
   * create a new account; update only the attributes listed; disable or enable it (with any listed attribute changes); delete it (only when the target allows deletes); link an existing account without writing to it.
   */
  action: 'create' | 'update' | 'disable' | 'enable' | 'delete' | 'link';
  /**
   * Target app.
   */
  app: string;
  /**
   * The account's key in the target.
   */
  key: string;
  /**
   * Directory user id.
   */
  userId: string;
  /**
   * Directory user login.
   */
  login: string;
  /**
   * Attributes to write, each with the value the target is expected to hold now (from) and the new value (to). Apply writes an attribute only while the target still holds `from` (compare-and-set).
   */
  attributes: {
    [k: string]: TargetValueChange;
  };
  /**
   * Record the account's link to the user in the state.
   */
  link: boolean;
  userStatus?: UserStatus1;
  /**
   * ldap: the entry's DN after the change
   */
  dn?: string;
  /**
   * Attributes deliberately not written, with why (write-back safety).
   */
  skipped?: SkippedAttribute[];
  /**
   * Why (display only).
   */
  reason: string;
}
/**
 * An account attribute's expected and new value; null means empty.
 */
export interface TargetValueChange {
  /**
   * Expected current value.
   */
  from: string | null;
  /**
   * New value.
   */
  to: string | null;
}
/**
 * An attribute a write-back leaves alone.
 */
export interface SkippedAttribute {
  /**
   * App attribute.
   */
  attribute: string;
  /**
   * Why it is not written.
   */
  reason: string;
}
