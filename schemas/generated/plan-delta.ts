/* Generated from schemas/plan-delta.schema.json by json-schema-to-typescript. Do not edit: run `npm run gen:types`. */

/**
 * Apps this plan leaves out because they could not be read (`onUnreachable: skip`, the default for targets): nothing of theirs is planned, so nothing of theirs is lost; the next plan that can read them plans them. `plan` exits 4 when this is not empty and the plan is otherwise applyable.
 */
export type NotPlanned = NotPlannedApp[];

/**
 * `plan --git-base REF --format json`: how the plan of the working tree's config differs from the plan of the config at REF, both against the same state and the same source snapshots. What a pull request changes about what apply would do.
 */
export interface PlanDelta {
  /**
   * Delta format version.
   */
  format_version: '1';
  /**
   * The guardrails the config change touches: safeguard thresholds and allowMassChange, plan policies, protected roles, and the roles users: and set: give. Called out first in every rendering, whatever else the change does.
   */
  guardrails?: GuardrailChange[];
  /**
   * The same difference (an attribute planned as `base` at REF and as `head` in the working tree) over many users or accounts, the largest first (at most 100): what a mapping change does, by value. Values are the plans' own; the Markdown view masks the personal ones.
   */
  groups?: DifferenceGroup[];
  /**
   * What kept the plan at REF from being applied that the working tree's plan no longer has (a safeguard the change raised or overrode, a policy it removed).
   */
  unblocks?: string[];
  /**
   * The plan of the config at REF.
   */
  base: {
    /**
     * REF as given.
     */
    ref: string;
    /**
     * The commit REF names.
     */
    commit: string;
    /**
     * Whether that plan may be applied.
     */
    applyable: boolean;
    summary: PlanSummary;
    /**
     * Why that plan may not be applied.
     */
    blockers: PlanBlocker[];
    /**
     * That plan's policy verdicts.
     */
    policies?: PolicyVerdict[];
    notPlanned?: NotPlanned;
  };
  /**
   * The plan of the working tree's config.
   */
  head: {
    /**
     * Whether that plan may be applied.
     */
    applyable: boolean;
    summary: PlanSummary;
    /**
     * Why that plan may not be applied.
     */
    blockers: PlanBlocker[];
    /**
     * That plan's policy verdicts.
     */
    policies?: PolicyVerdict[];
    notPlanned?: NotPlanned;
    /**
     * The commit the working tree is at (git's HEAD), when the config is in a git repository: the change's head commit.
     */
    commit?: string;
  };
  /**
   * How many users and accounts plan differently.
   */
  counts: {
    users: number;
    accounts: number;
  };
  /**
   * Per kind, app and action: how many changes each plan has, and the difference (head minus base). Users count under their profile source.
   */
  actions: ActionDelta[];
  /**
   * Per attribute: for how many users (or accounts, per app) its planned value differs.
   */
  attributes: AttributeDelta[];
  /**
   * Each user planned differently.
   */
  users: UserDelta[];
  /**
   * Each account planned differently.
   */
  accounts: AccountDelta[];
  /**
   * The link to the CI run that made the delta, when the CI says it (GitHub Actions: GITHUB_SERVER_URL/GITHUB_REPOSITORY/actions/runs/GITHUB_RUN_ID; GitLab CI: CI_JOB_URL).
   */
  run?: string;
  /**
   * How many users the stored directory holds: the base of each count's share.
   */
  directory?: number;
  /**
   * With the config's plan.countBy: the users the change plans differently, by the action the change gives them and that attribute's value (after the change), the largest first.
   */
  countedBy?: {
    attribute: string;
    rows: {
      /**
       * The action the change's plan gives these users (`no change` where the base's plan had one and this one has none).
       */
      action: string;
      /**
       * The attribute's value, null where the user has none.
       */
      value: string | null;
      count: number;
    }[];
  };
  /**
   * Why the change plans differently: the settings that decide it, with where they are written (see DeltaReason).
   */
  reasons?: DeltaReason[];
  /**
   * The data changes pending at the base: what the base's config would carry out now (joiners, movers, leavers from the sources), which the merge applies too. Counts by action, and the same attribute change (stored value → planned value) grouped by value, the largest first.
   */
  pending?: {
    /**
     * User changes by action (only actions with some).
     */
    users: {
      [k: string]: number;
    };
    /**
     * Account changes by action (only actions with some).
     */
    accounts: {
      [k: string]: number;
    };
    /**
     * The same attribute change over many users: `base` is the stored value, `head` the value the base's config plans (at most 100, the largest first).
     */
    groups?: DifferenceGroup[];
  };
}
export interface GuardrailChange {
  /**
   * The setting, as a path: safeguards.allowMassChange, policies.NAME, directory.protect.roles, set: roles.
   */
  setting: string;
  /**
   * Its value at REF (null: not set).
   */
  from: string | number | boolean | unknown[] | {} | null;
  /**
   * Its value in the working tree (null: not set).
   */
  to: string | number | boolean | unknown[] | {} | null;
  /**
   * For the roles users: and set: give: whose (personal data, masked in Markdown).
   */
  login?: string;
}
export interface DifferenceGroup {
  kind: 'user' | 'account';
  /**
   * The target app of an account attribute; null for a user attribute.
   */
  app: string | null;
  attribute: string;
  /**
   * The value the plan at REF gives (null: unset).
   */
  base: string | number | boolean | unknown[] | null;
  /**
   * The value the working tree's plan gives (null: unset).
   */
  head: string | number | boolean | unknown[] | null;
  count: number;
  /**
   * Up to 3 logins.
   */
  examples: string[];
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
export interface ActionDelta {
  kind: 'user' | 'account';
  app: string;
  action: string;
  base: number;
  head: number;
  delta: number;
}
export interface AttributeDelta {
  kind: 'user' | 'account';
  /**
   * The target app for accounts; null for directory users.
   */
  app: string | null;
  attribute: string;
  count: number;
}
/**
 * A user the two plans treat differently.
 */
export interface UserDelta {
  id: string;
  login: string;
  /**
   * The change the base config plans (its action), or null for none.
   */
  base: string | null;
  /**
   * The change the working tree's config plans, or null for none.
   */
  head: string | null;
  /**
   * The attributes (and status, roles) whose planned value differs between the two.
   */
  attributes: string[];
}
/**
 * An account the two plans treat differently.
 */
export interface AccountDelta {
  app: string;
  key: string;
  login: string;
  /**
   * The change the base config plans (its action), or null for none.
   */
  base: string | null;
  /**
   * The change the working tree's config plans, or null for none.
   */
  head: string | null;
  /**
   * The attributes (and status, roles) whose planned value differs between the two.
   */
  attributes: string[];
}
/**
 * A config setting that makes the change plan differently: changed by it, or unchanged but reading a user attribute whose mapping it changed (then `reads` names those).
 */
export interface DeltaReason {
  /**
   * The setting's path, e.g. apps.hr.import.mappings.title.
   */
  setting: string;
  /**
   * Where it is written: file:line:col (in the base config when the change removes it).
   */
  location: string;
  /**
   * Its text in the base config, null where it is not set.
   */
  base: string | null;
  /**
   * Its text in the change's config, null where it is not set.
   */
  head: string | null;
  affects: {
    app: string;
    /**
     * A directory attribute the import maps.
     */
    attribute?: string;
    /**
     * The import's disabled expression: users' status.
     */
    status?: boolean;
    /**
     * The target's assign: which users have an account.
     */
    assignment?: boolean;
    /**
     * An attribute the target's mapping writes.
     */
    accountAttribute?: string;
  };
  /**
   * The user attributes it reads whose mapping the change changed.
   */
  reads?: string[];
}
