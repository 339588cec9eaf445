/* Generated from schemas/config.schema.json by json-schema-to-typescript. Do not edit: run `npm run gen:types`. */

/**
 * An idplane project: the directory's user schema, the apps that feed it, the profile-source priority, declared users and links. Written as idplane.yaml (plus any files it includes). This schema is the config reference; every key is described here.
 */
export interface IdplaneConfig {
  /**
   * Config format version. Only 1 exists.
   */
  version: 1;
  /**
   * Further YAML files, relative to idplane.yaml, whose top-level keys are merged into this config. Maps (apps, directory.attributes) merge by key and a key defined twice is an error; lists (users, links) are concatenated. Included files may not include again.
   */
  include?: string[];
  state?: StateConfig;
  directory: DirectoryConfig;
  /**
   * Declared users. The directory is their source of truth: imports never source them, and an account that matches one is reported for review instead of being linked.
   */
  users?: DeclaredUser[];
  /**
   * Import apps in priority order, highest first. A user linked to several of them is sourced (profile and lifecycle) by the highest-priority one only. Every import app must be listed here.
   */
  profileSources?: string[];
  /**
   * Pins an app account to a directory user. A link wins over the matching rules; use it to settle a review item or a conflict from the plan.
   */
  links?: LinkConfig[];
  /**
   * The external systems idplane talks to, by app name (lowercase letters, digits, '_' and '-').
   */
  apps: {
    [k: string]: AppConfig;
  };
}
/**
 * Where idplane keeps its directory, links and history.
 */
export interface StateConfig {
  /**
   * embedded (default): a local store in .idplane/ beside the config, no server needed.
   */
  backend?: 'embedded';
  /**
   * embedded only: the store's folder, relative to the config. Default .idplane
   */
  path?: string;
}
/**
 * idplane's own user store: its attribute schema and who is protected.
 */
export interface DirectoryConfig {
  /**
   * The directory's user schema, by attribute name. `login` must be declared; it identifies users and is always required and unique.
   */
  attributes: {
    [k: string]: AttributeConfig;
  };
  protect?: ProtectConfig;
}
/**
 * One directory attribute.
 */
export interface AttributeConfig {
  /**
   * Value type. Mapped values are converted to it; a value that cannot be converted is reported for that user. Default string.
   */
  type?: 'string' | 'integer' | 'number' | 'boolean' | 'string[]';
  /**
   * Every user must have a value. A mapped user without one is reported and not created or updated.
   */
  required?: boolean;
  /**
   * No two users may share a value (compared case-insensitively for strings). A clash is a conflict in the plan.
   */
  unique?: boolean;
  /**
   * Attribute-level sourcing. `directory` makes the attribute directory-owned: imports never overwrite it. An app name takes the attribute from that app's mapping whatever the user's primary source is. Default: the user's primary profile source.
   */
  source?: string;
  /**
   * Free text for people reading the config.
   */
  description?: string;
}
/**
 * Protected users are never deactivated or suspended by an import; the plan shows the blocked transition instead.
 */
export interface ProtectConfig {
  /**
   * Users holding any of these roles are protected. Default [super_admin].
   */
  roles?: string[];
}
/**
 * A user written in the config (a break-glass admin, a service account).
 */
export interface DeclaredUser {
  /**
   * The user's unique login.
   */
  login: string;
  /**
   * ACTIVE (default), STAGED or DEPROVISIONED.
   */
  status?: 'ACTIVE' | 'STAGED' | 'DEPROVISIONED';
  /**
   * Roles such as super_admin.
   */
  roles?: string[];
  /**
   * Profile attributes by directory attribute name.
   */
  profile?: {
    [k: string]: string | number | boolean | unknown[];
  };
}
/**
 * Pins one app account to one directory user.
 */
export interface LinkConfig {
  /**
   * The app name.
   */
  app: string;
  /**
   * The account's key in that app (the value of its key column or attribute).
   */
  key: string;
  /**
   * The directory user's login.
   */
  user: string;
}
/**
 * An external system reached through a provider.
 */
export interface AppConfig {
  /**
   * How idplane talks to the app. csv: a CSV file (an HR export, for example).
   */
  provider: 'csv';
  connection: CsvConnection;
  /**
   * The attribute (for csv: the column) that uniquely identifies an account in this app. Default id.
   */
  key?: string;
  import?: ImportConfig;
}
/**
 * Where and how to read the CSV file.
 */
export interface CsvConnection {
  /**
   * The file, relative to the config. May use ${env:NAME}.
   */
  path: string;
  /**
   * Field delimiter, one character. Default ','.
   */
  delimiter?: string;
  /**
   * Quote character, one character. Default '"'.
   */
  quote?: string;
  /**
   * Escape character inside quoted fields. Default: the quote character (a doubled quote).
   */
  escape?: string;
  /**
   * Trim whitespace around unquoted values. Default true.
   */
  trim?: boolean;
}
/**
 * Makes the app an import source (a profile source).
 */
export interface ImportConfig {
  /**
   * full (default): the app's whole account list is read every run, and an account that vanished counts as missing (see onMissing).
   */
  mode?: 'full';
  /**
   * Ordered matching rules for accounts not yet linked. The first rule that finds a user decides; a rule that finds several users is a conflict, never a guess.
   */
  match?: MatchRule[];
  /**
   * link (default): link the account to the matched user. review: list it in the plan for a `links:` entry.
   */
  onMatch?: 'link' | 'review';
  /**
   * create (default): create a new user. review: list it in the plan. ignore: skip it.
   */
  onNoMatch?: 'create' | 'review' | 'ignore';
  /**
   * Status of users this app creates: STAGED (default) or ACTIVE.
   */
  newUserStatus?: 'STAGED' | 'ACTIVE';
  /**
   * CEL over `app`: true when the account is disabled (for example `app.status == "Terminated"`). Default: never disabled.
   */
  disabled?: string;
  /**
   * What a disabled account does to the user it sources: deactivate (default), suspend or none.
   */
  onDisabled?: 'deactivate' | 'suspend' | 'none';
  /**
   * What an account missing from a full import does to the user it sourced, when no other profile source links them: deactivate (default), suspend or none. Never applied when rows could not be read.
   */
  onMissing?: 'deactivate' | 'suspend' | 'none';
  reactivate?: ReactivatePolicy;
  /**
   * Directory attribute → CEL expression over `app` (the account's attributes). An empty result leaves the attribute unset.
   */
  mappings: {
    [k: string]: string;
  };
}
/**
 * One matching rule: the account matches a user when the app attribute equals the directory attribute (exact, after the rule's normalisation).
 */
export interface MatchRule {
  /**
   * The app attribute (CSV column).
   */
  app: string;
  /**
   * The directory attribute it must equal.
   */
  user: string;
  /**
   * Compare case-insensitively. Default false (exact).
   */
  ignoreCase?: boolean;
}
/**
 * Whether an enabled account brings back a user this app suspended or deactivated.
 */
export interface ReactivatePolicy {
  /**
   * Unsuspend a SUSPENDED user. Default true.
   */
  suspended?: boolean;
  /**
   * Reactivate a DEPROVISIONED user. Default false.
   */
  deactivated?: boolean;
}
