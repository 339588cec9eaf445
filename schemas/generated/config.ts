/* Generated from schemas/config.schema.json by json-schema-to-typescript. Do not edit: run `npm run gen:types`. */

/**
 * An external system reached through a provider (csv, ldap, scim, http, okta): an import source (import:), a provisioning target (provision:), or both (a write-back).
 */
export type AppConfig = CsvApp | LdapApp | ScimApp | HttpApp | OktaApp;
/**
 * What a plan does when this app cannot be read (a file that cannot be opened, a server that is down or refuses the credentials). skip: the plan leaves the app out ("not planned", with the reason), plans everything else, and exits 4; for a target nothing of its accounts changes, for an import source its users keep their last imported values and no lifecycle change (never a deactivation) comes from it; the next plan that can read it plans it. fail: the plan stops with the error (exit 1). Default: fail for an import source, skip for a provisioning target only.
 */
export type OnUnreachable = 'fail' | 'skip';
/**
 * `idplane serve` only: when to import this app on its own, as a cron expression (5 fields, or 6 with seconds first; e.g. "* /15 * * * *" every 15 minutes), in UTC unless `serve.timezone` says otherwise. Each scheduled run reads this app (incrementally where its import is incremental), leaves the other import sources as they were, reads the targets, and applies what that plan changes under the state lock, unless a safeguard, policy or conflict blocks it. Needs import:.
 */
export type Schedule = string;
/**
 * Users deactivated by this run. Percentages are of the users in the directory (per app: of the users that app sources).
 */
export type Threshold = number | string;
/**
 * Users suspended by this run. Percentages as for deactivateUsers.
 */
export type Threshold1 = number | string;
/**
 * Accounts that became disabled at their source in this run. Percentages are of the accounts stored for the app(s).
 */
export type Threshold2 = number | string;
/**
 * Accounts whose imported values changed or that vanished in this run. Percentages as for disableAccounts.
 */
export type Threshold3 = number | string;
/**
 * Users deactivated by this run. Percentages are of the users in the directory (per app: of the users that app sources).
 */
export type Threshold4 = number | string;
/**
 * Users suspended by this run. Percentages as for deactivateUsers.
 */
export type Threshold5 = number | string;
/**
 * Accounts that became disabled at their source in this run. Percentages are of the accounts stored for the app(s).
 */
export type Threshold6 = number | string;
/**
 * Accounts whose imported values changed or that vanished in this run. Percentages as for disableAccounts.
 */
export type Threshold7 = number | string;

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
  safeguards?: SafeguardsConfig;
  /**
   * Plan policies: rules over the plan's changes, checked by every plan. A policy matches each change for which `when` is true; more than `max` matches (default 0) breaks it, and a broken policy blocks apply like a conflict, unless `apply --allow-policy NAME` names it. See docs/config.md, "Plan policies", for the variables.
   */
  policies?: Policy[];
  /**
   * Saved plans (`plan --out`) and the plan delta (`plan --git-base`).
   */
  plan?: {
    /**
     * A secret (at least 32 characters), normally ${env:IDPLANE_PLAN_KEY} set as a CI secret. `plan --out` then signs the plan file (HMAC-SHA256 over its content), and `apply PLANFILE` refuses a plan that is unsigned or signed with another key, before reading anything else: only a job that holds the key can make a plan that applies. Never logged, and not part of the config fingerprint (the ${env:...} reference is).
     */
    signingKey?: string;
    /**
     * A directory attribute that is not personal data (department, say): the plan delta of a pull request (`plan --git-base`) counts the users whose planned action the change makes different by its value, so a reviewer sees "deactivate: Sales 12, Finance 3" rather than masked rows. An attribute the config marks `sensitive` is refused.
     */
    countBy?: string;
  };
  /**
   * Values the directory owns for users it imports: attributes with `source: directory` and roles. Sourced attributes are read-only in the directory and cannot be set here.
   */
  set?: SetValues[];
  serve?: ServeConfig;
}
/**
 * Where idplane keeps its directory, links, journal and history.
 */
export interface StateConfig {
  /**
   * embedded (default): a local store in .idplane/ beside the config, no server needed. postgres: a PostgreSQL database, for teams and CI (locking, history).
   */
  backend?: 'embedded' | 'postgres';
  /**
   * embedded only: the store's folder, relative to the config. Default .idplane
   */
  path?: string;
  /**
   * postgres only: the connection URL, normally ${env:IDPLANE_STATE_URL} so the password stays out of the config.
   */
  url?: string;
  /**
   * postgres only: the schema holding idplane's tables, created if missing. Default idplane.
   */
  schema?: string;
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
   * Whether the attribute's values are personal data that shared outputs (the Markdown plan and drift report for pull requests and CI logs) mask as •••; the terminal and JSON output always show them. Default: true, except for attributes named title, jobTitle, department, division, organization, company, costCenter, userType, employeeType, employmentType, status, locale, timezone, preferredLanguage or countryCode. Logins are never shown in masked output: each user appears as a stable short tag instead.
   */
  sensitive?: boolean;
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
   * More roles whose holders are protected. super_admin is always protected: a super admin can never be deactivated through an import.
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
   * Roles such as super_admin. Roles come only from the config: one taken off this list, or a user taken off users:, loses it.
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
 * An app reached as a CSV file: an HR export to import, or an export file to provision (rewritten atomically).
 */
export interface CsvApp {
  /**
   * How idplane talks to the app.
   */
  provider: 'csv';
  connection: CsvConnection;
  /**
   * The attribute that uniquely identifies an account in this app (for csv: a column). Default: id for csv, uid for ldap, userName for scim, id for http, profile.login for okta.
   */
  key?: string;
  import?: ImportConfig;
  provision?: ProvisionConfig;
  onUnreachable?: OnUnreachable;
  schedule?: Schedule;
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
  /**
   * The file's character encoding: utf-8 (default, with or without a BOM), latin1, windows-1252 (what Excel on Windows saves as 'CSV'), or utf-16le (with or without a BOM). Read and written through Node's own decoders. In utf-8, a row holding bytes that are not UTF-8 is refused, naming its line and column; the rest goes on.
   */
  encoding?: 'utf-8' | 'latin1' | 'windows-1252' | 'utf-16le';
  /**
   * For a CSV target: write a value that starts with =, +, -, @, TAB or CR with a leading ' so that a spreadsheet opening the file shows it as text instead of evaluating it as a formula (OWASP's CSV injection), and read the file back without it. Default true. Turn it off only for a file no spreadsheet ever opens: HR data would then run as formulas on the reader's machine.
   */
  escapeFormulas?: boolean;
}
/**
 * Makes the app an import source (a profile source).
 */
export interface ImportConfig {
  /**
   * full (default): the whole account list is read every run, and an account that vanished counts as missing (see onMissing). incremental: only rows whose `watermark` column is past the stored watermark are applied, and absence never removes anything.
   */
  mode?: 'full' | 'incremental';
  /**
   * Ordered matching rules for accounts not yet linked. The first rule that finds a user decides; a rule that finds several users is a conflict, never a guess.
   */
  match?: MatchRule[];
  /**
   * link (default): link the account to the user an exact rule matched. review: list it in the plan for a `links:` entry. Partial rules always review.
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
  /**
   * incremental only: the column holding a sortable change marker (an ISO timestamp or a zero-padded counter). The highest value applied is stored; rows below it are skipped next time (rows at it are read again, so a change in the same second is never lost).
   */
  watermark?: string;
}
/**
 * One matching rule, in one of three forms: a pair (`app` + `user`), a combination (`all`: every pair must agree) or an expression (`expression`: a CEL key computed from the account must equal one computed from the user). Values are compared exactly after the rule's normalisation; empty values never match.
 */
export interface MatchRule {
  /**
   * Pair form: the app attribute (CSV column).
   */
  app?: string;
  /**
   * Pair form: the directory attribute it must equal.
   */
  user?: string;
  /**
   * Combination form: pairs that must all agree.
   *
   * @minItems 2
   */
  all?: [MatchPair, MatchPair, ...MatchPair[]];
  expression?: MatchExpression;
  /**
   * Applied to both sides before comparing: case (case-insensitive), trim (trim and collapse whitespace), diacritics (fold é to e, ß to ss, …). Default: none (exact).
   */
  normalize?: ('case' | 'trim' | 'diacritics')[];
  /**
   * A partial rule: a match only ever becomes a review item, never a link (for example first + last name agree while email does not). Partial rules are tried after every exact rule found nothing.
   */
  partial?: boolean;
}
/**
 * An app attribute that must equal a directory attribute.
 */
export interface MatchPair {
  /**
   * The app attribute (CSV column).
   */
  app: string;
  /**
   * The directory attribute.
   */
  user: string;
}
/**
 * Expression form: two CEL expressions whose results must be equal. Both sides are computed once per account and per user and compared through a hash index.
 */
export interface MatchExpression {
  /**
   * CEL over `app`.
   */
  app: string;
  /**
   * CEL over `user`.
   */
  user: string;
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
/**
 * Makes the app a provisioning target: the directory's users are pushed to it.
 */
export interface ProvisionConfig {
  /**
   * Which users get an account: a CEL expression over `user` (the profile, plus user.status and user.roles), or true for everyone (default). Only ACTIVE users' accounts are enabled.
   */
  assign?: string | boolean;
  /**
   * Create accounts for assigned users that have none. Default true.
   */
  create?: boolean;
  /**
   * Push changed attribute values to existing accounts. Default true.
   */
  update?: boolean;
  /**
   * Disable the account when its user is unassigned or deactivated, and enable it again when they come back. Default true.
   */
  deactivate?: boolean;
  /**
   * Delete accounts instead of disabling them. Default false; deleting is never the default.
   */
  delete?: boolean;
  match?: ProvisionMatch;
  status?: StatusColumn;
  /**
   * App attribute → CEL over `user`, or { value, on }. `on: create` writes the attribute only when the account is created; the default, `on: always`, also pushes later changes. Only mapped attributes are ever written, and only when their value changed.
   */
  mappings: {
    [k: string]: string | OutboundMapping;
  };
  dn?: LdapDnTemplate;
  /**
   * ldap only: object classes of created entries, e.g. [inetOrgPerson].
   */
  objectClasses?: string[];
}
/**
 * How an existing, unlinked account is found before one is created, so it is linked instead of duplicated (also after a crash between create and record). An account whose key equals the one the mappings give is always found.
 */
export interface ProvisionMatch {
  /**
   * The app attribute (CSV column).
   */
  app: string;
  /**
   * The directory attribute it must equal (compared case-insensitively).
   */
  user: string;
}
/**
 * csv: the column that says whether an account is enabled. Default { attribute: active, enabled: "true", disabled: "false" }.
 */
export interface StatusColumn {
  /**
   * Column name.
   */
  attribute: string;
  /**
   * Value for enabled accounts. Default "true".
   */
  enabled?: string;
  /**
   * Value for disabled accounts. Default "false".
   */
  disabled?: string;
}
/**
 * An outbound mapping with its apply mode.
 */
export interface OutboundMapping {
  /**
   * CEL over `user`.
   */
  value: string;
  /**
   * create: only when the account is created. always (default): on create and on every update.
   */
  on?: 'create' | 'always';
}
/**
 * ldap only: where accounts live. The RDN attribute's value comes from its mapping and is escaped; `parent` is CEL over `user` giving the parent DN (use dnEscape() around user values). When either changes, the entry is renamed or moved.
 */
export interface LdapDnTemplate {
  /**
   * The RDN attribute, e.g. uid or cn; it must be mapped.
   */
  rdn: string;
  /**
   * CEL over user: the parent DN, e.g. '"ou=people,dc=example,dc=com"'.
   */
  parent: string;
}
/**
 * An LDAP directory (OpenLDAP or Active Directory), as import source and/or target.
 */
export interface LdapApp {
  /**
   * How idplane talks to the app.
   */
  provider: 'ldap';
  connection: LdapConnection;
  /**
   * The attribute that uniquely identifies an account in this app (for csv: a column). Default: id for csv, uid for ldap, userName for scim, id for http, profile.login for okta.
   */
  key?: string;
  import?: ImportConfig;
  provision?: ProvisionConfig;
  onUnreachable?: OnUnreachable;
  schedule?: Schedule;
}
/**
 * Where and how to reach the LDAP directory.
 */
export interface LdapConnection {
  /**
   * ldap://host:port or ldaps://host:port.
   */
  url: string;
  /**
   * The DN to bind as. Omit for an anonymous bind.
   */
  bindDN?: string;
  /**
   * The bind password, normally ${env:NAME}. Never logged.
   */
  password?: string;
  /**
   * Upgrade an ldap:// connection with StartTLS before binding. Default false.
   */
  startTLS?: boolean;
  tls?: TlsOptions;
  /**
   * openldap (default) or ad. With ad, objectGUID is read as a GUID string and a disabled account is the userAccountControl ACCOUNTDISABLE bit (2), unless import.disabled says otherwise.
   */
  flavor?: 'openldap' | 'ad';
  /**
   * Where to search for accounts.
   */
  baseDN: string;
  /**
   * base, one or sub (default).
   */
  scope?: 'base' | 'one' | 'sub';
  /**
   * An LDAP filter for the accounts. Default (objectClass=inetOrgPerson) for openldap, (&(objectCategory=person)(objectClass=user)) for ad.
   */
  filter?: string;
  /**
   * Paged-search page size (RFC 2696). Default 500.
   */
  pageSize?: number;
  /**
   * Attributes to read. Default: every user attribute the mappings, rules and key use.
   */
  attributes?: string[];
  /**
   * Attributes returned as binary (hex-encoded, objectGUID as a GUID string). Default [objectGUID, objectSid].
   */
  binaryAttributes?: string[];
  /**
   * Connect and operation timeout. Default 10000.
   */
  timeoutMs?: number;
  /**
   * Retries of an operation or a change that failed because the connection was lost or timed out (the client reconnects and binds again). A change is tried again from its search, so an entry added before the answer was lost is found, not added twice. Waits grow exponentially with jitter. Default 4.
   */
  retries?: number;
  /**
   * Stop sending an app requests for the rest of the run after this many failures in a row (timeouts, lost connections, 5xx): its remaining changes fail at once with one message, and the other apps go on. Default 25.
   */
  breakAfter?: number;
}
/**
 * TLS settings for ldaps:// and StartTLS.
 */
export interface TlsOptions {
  /**
   * A PEM file with the CA certificate(s) to trust, relative to the config.
   */
  ca?: string;
  /**
   * Refuse certificates that do not verify. Default true; turning it off is for tests only.
   */
  rejectUnauthorized?: boolean;
  /**
   * The name to verify the certificate against, when it differs from the URL's host.
   */
  servername?: string;
}
/**
 * A SCIM 2.0 service provider (RFC 7643/7644), as target and/or source.
 */
export interface ScimApp {
  /**
   * How idplane talks to the app.
   */
  provider: 'scim';
  connection: ScimConnection;
  /**
   * The attribute that uniquely identifies an account in this app (for csv: a column). Default: id for csv, uid for ldap, userName for scim, id for http, profile.login for okta.
   */
  key?: string;
  import?: ImportConfig;
  provision?: ProvisionConfig;
  onUnreachable?: OnUnreachable;
  schedule?: Schedule;
}
/**
 * Where and how to reach the SCIM service provider.
 */
export interface ScimConnection {
  /**
   * The SCIM base URL, e.g. https://example.test/scim/v2.
   */
  url: string;
  /**
   * A bearer token, normally ${env:NAME}. Never logged.
   */
  token?: string;
  /**
   * Basic auth user (instead of a token).
   */
  username?: string;
  /**
   * Basic auth password, normally ${env:NAME}.
   */
  password?: string;
  /**
   * Most requests in flight at once. A 429 lowers it for the whole app by a quarter (one more per round of successes brings it back). Default 4.
   */
  concurrency?: number;
  /**
   * Per-request timeout. Default 10000.
   */
  timeoutMs?: number;
  /**
   * The largest answer body read, in MiB: a larger one (a runaway page, a hostile server) fails the request with this limit named instead of being held in memory whole, and is not retried. Default 64.
   */
  maxResponseMiB?: number;
  /**
   * Retries of a request or a change that failed on a transient fault: 429 or 503 (waiting as Retry-After says, seconds or an HTTP date), 500, 502, 504, a timeout or a lost connection. Only what cannot duplicate is repeated: reads are re-sent; a write is tried again from its lookup, so a create the server carried out before its answer was lost is found, not sent twice. Waits grow exponentially with jitter. Default 4.
   */
  retries?: number;
  /**
   * count per page when listing (startIndex/count). Default 100.
   */
  pageSize?: number;
  /**
   * Stop sending an app requests for the rest of the run after this many failures in a row (timeouts, lost connections, 5xx): its remaining changes fail at once with one message, and the other apps go on. Default 25.
   */
  breakAfter?: number;
}
/**
 * An HR system (or any service) that lists people as JSON over HTTP, page by page (Workday RaaS, BambooHR, SuccessFactors, HiBob, an internal API): an import source. Nested fields are read as dotted names (address.city).
 */
export interface HttpApp {
  /**
   * How idplane talks to the app.
   */
  provider: 'http';
  connection: HttpConnection;
  /**
   * The attribute that uniquely identifies an account in this app (for csv: a column). Default: id for csv, uid for ldap, userName for scim, id for http, profile.login for okta.
   */
  key?: string;
  import?: ImportConfig;
  onUnreachable?: OnUnreachable;
  schedule?: Schedule;
}
/**
 * Where and how to read the records.
 */
export interface HttpConnection {
  /**
   * The URL that lists the records (the first page), e.g. https://hr.example.test/api/v1/employees. It must not hold credentials.
   */
  url: string;
  /**
   * A bearer token (Authorization: Bearer …), normally ${env:NAME} or ${file:PATH}. Never logged.
   */
  token?: string;
  /**
   * Basic auth user (instead of a token).
   */
  username?: string;
  /**
   * Basic auth password, normally ${env:NAME} or ${file:PATH}. Never logged.
   */
  password?: string;
  /**
   * Further request headers, e.g. { X-Api-Key: "${env:HR_API_KEY}" }. Their values are treated as secrets: never logged.
   */
  headers?: {
    [k: string]: string;
  };
  /**
   * Fixed query parameters added to every page's request, e.g. { status: all }.
   */
  query?: {
    [k: string]: string | number | boolean;
  };
  /**
   * Where the records are in each page's JSON: a dotted path such as data.employees. Default: the body itself, which must then be an array.
   */
  records?: string;
  pagination?: HttpPagination;
  since?: HttpSince;
  /**
   * Most requests in flight at once. A 429 lowers it for the whole app by a quarter (one more per round of successes brings it back). Default 4.
   */
  concurrency?: number;
  /**
   * Per-request timeout. Default 10000.
   */
  timeoutMs?: number;
  /**
   * The largest answer body read, in MiB: a larger one (a runaway page, a hostile server) fails the request with this limit named instead of being held in memory whole, and is not retried. Default 64.
   */
  maxResponseMiB?: number;
  /**
   * Retries of a request that failed on a transient fault: 429 or 503 (waiting as Retry-After or the rate-limit reset says), 500, 502, 504, a timeout or a lost connection. Reads are re-sent; a write is tried again from its lookup, never sent twice. Waits grow exponentially with jitter. Default 4.
   */
  retries?: number;
  /**
   * Stop sending an app requests for the rest of the run after this many failures in a row (timeouts, lost connections, 5xx): its remaining work fails at once with one message, and the other apps go on. Default 25.
   */
  breakAfter?: number;
}
/**
 * How the listing pages. A listing that ends short of a total the server gave, or on a page that is not JSON, is an error, never a shorter account list.
 */
export interface HttpPagination {
  /**
   * none: one request. page: page numbers (pageParam, sizeParam), until an empty or short page. offset: offset and limit (offsetParam, limitParam), likewise. cursor: the next request sends the cursor found at cursorPath, until it is empty. next-link: the next page's URL is at nextPath, until it is empty. link-header: the next page's URL is the Link header's rel="next" (RFC 8288).
   */
  type: 'none' | 'page' | 'offset' | 'cursor' | 'next-link' | 'link-header';
  /**
   * Records asked for per page (page, offset, cursor). Default 100.
   */
  pageSize?: number;
  /**
   * page: the page number's parameter. Default page.
   */
  pageParam?: string;
  /**
   * page: the number of the first page. Default 1.
   */
  firstPage?: number;
  /**
   * page, cursor: the page size's parameter. Default per_page for page, limit for cursor.
   */
  sizeParam?: string;
  /**
   * offset: the offset's parameter (the first record is 0). Default offset.
   */
  offsetParam?: string;
  /**
   * offset: the page size's parameter. Default limit.
   */
  limitParam?: string;
  /**
   * cursor: the parameter that sends the cursor. Default cursor.
   */
  cursorParam?: string;
  /**
   * cursor: where the next cursor is in a page's JSON, e.g. meta.next_cursor. Required for cursor.
   */
  cursorPath?: string;
  /**
   * next-link: where the next page's URL is in a page's JSON, e.g. links.next. Required for next-link. It must be on the same origin as url (credentials go nowhere else).
   */
  nextPath?: string;
  /**
   * Where a page's JSON gives the total number of records, e.g. meta.total. With it, a listing that ends short of the total is an error, and page and offset listings fetch the remaining pages concurrently.
   */
  totalPath?: string;
}
/**
 * incremental imports: the query parameter that asks for records changed since the stored watermark (import.watermark names the record field that holds the change marker). The first incremental read, with no watermark stored yet, is a full listing.
 */
export interface HttpSince {
  /**
   * The query parameter, e.g. updated_since.
   */
  param: string;
}
/**
 * An Okta org through its Management API (/api/v1/users): an import source (adopt an existing org without re-creating anyone) and/or a provisioning target (create, update, activate, deactivate users). Attributes are profile.NAME plus id, status and the timestamps.
 */
export interface OktaApp {
  /**
   * How idplane talks to the app.
   */
  provider: 'okta';
  connection: OktaConnection;
  /**
   * The attribute that uniquely identifies an account in this app (for csv: a column). Default: id for csv, uid for ldap, userName for scim, id for http, profile.login for okta.
   */
  key?: string;
  import?: ImportConfig;
  provision?: ProvisionConfig;
  onUnreachable?: OnUnreachable;
  schedule?: Schedule;
}
/**
 * Where and how to reach the Okta org.
 */
export interface OktaConnection {
  /**
   * The org URL, e.g. https://acme.okta.com (the API is below /api/v1).
   */
  url: string;
  /**
   * An API token, sent as Authorization: SSWS …, normally ${env:OKTA_API_TOKEN}. Never logged.
   */
  token?: string;
  /**
   * An OAuth 2.0 access token with okta.users.read (and okta.users.manage for a target), sent as a bearer token, instead of token. Never logged.
   */
  accessToken?: string;
  /**
   * Lists only the users this search expression selects (Okta's search parameter), e.g. profile.department eq "Engineering". A full import then counts only those users as present.
   */
  search?: string;
  /**
   * Lists only the users this filter selects (Okta's filter parameter), e.g. status eq "ACTIVE". Prefer search.
   */
  filter?: string;
  /**
   * Users per page (limit). Default 200, Okta's maximum.
   */
  pageSize?: number;
  /**
   * Most requests in flight at once. A 429 lowers it for the whole app by a quarter (one more per round of successes brings it back). Default 4.
   */
  concurrency?: number;
  /**
   * Per-request timeout. Default 10000.
   */
  timeoutMs?: number;
  /**
   * The largest answer body read, in MiB: a larger one (a runaway page, a hostile server) fails the request with this limit named instead of being held in memory whole, and is not retried. Default 64.
   */
  maxResponseMiB?: number;
  /**
   * Retries of a request that failed on a transient fault: 429 or 503 (waiting as Retry-After or the rate-limit reset says), 500, 502, 504, a timeout or a lost connection. Reads are re-sent; a write is tried again from its lookup, never sent twice. Waits grow exponentially with jitter. Default 4.
   */
  retries?: number;
  /**
   * Stop sending an app requests for the rest of the run after this many failures in a row (timeouts, lost connections, 5xx): its remaining work fails at once with one message, and the other apps go on. Default 25.
   */
  breakAfter?: number;
}
/**
 * Mass-change protection, evaluated at plan time. A plan over a threshold is marked not applyable, with the numbers, until `apply --allow-mass-change` or allowMassChange lets it through. Defaults: deactivateUsers, suspendUsers and disableAccounts at 20% overall.
 */
export interface SafeguardsConfig {
  deactivateUsers?: Threshold;
  suspendUsers?: Threshold1;
  disableAccounts?: Threshold2;
  changeAccounts?: Threshold3;
  /**
   * Per-app thresholds, by app name, counted over the users and accounts that app drives.
   */
  apps?: {
    [k: string]: SafeguardLimits;
  };
  /**
   * Let plans over a threshold be applied (the verdicts are still shown). Prefer `apply --allow-mass-change` for a one-off.
   */
  allowMassChange?: boolean;
}
/**
 * Thresholds for one app.
 */
export interface SafeguardLimits {
  deactivateUsers?: Threshold4;
  suspendUsers?: Threshold5;
  disableAccounts?: Threshold6;
  changeAccounts?: Threshold7;
}
/**
 * One plan policy.
 */
export interface Policy {
  /**
   * A unique name, used in the plan and by `apply --allow-policy NAME`.
   */
  name: string;
  /**
   * What the policy protects, shown with a broken policy.
   */
  description?: string;
  /**
   * CEL over one change: `change` (kind, action, app, key, login, attributes, status, source), `user` (the user after the plan: every directory attribute, null when unset, plus login, status, roles) and `before` (the same before it). True: the change counts against the policy. Example: change.action == "deactivate" && user.department == "Finance".
   */
  when: string;
  /**
   * How many matching changes are allowed (default 0: none).
   */
  max?: number;
}
/**
 * Directory-owned values for one user: attributes with `source: directory`, and roles.
 */
export interface SetValues {
  /**
   * The user's login.
   */
  user: string;
  /**
   * Attribute name → value. Each attribute must have `source: directory`.
   */
  attributes?: {
    [k: string]: string | number | boolean | string[];
  };
  /**
   * The user's roles (for example super_admin, which protects them from deactivation by imports). Roles come only from the config: these replace the stored roles, and a user whose entry is removed (or has no roles) loses theirs.
   */
  roles?: string[];
}
/**
 * `idplane serve`: the long-running process for what cannot wait for CI: JIT requests (POST /jit/APP), the apps' schedules (apps.NAME.schedule), /healthz and Prometheus /metrics. Runs take the same state lock as apply.
 */
export interface ServeConfig {
  /**
   * host:port to listen on. Default 127.0.0.1:8080; `serve --listen` overrides it.
   */
  listen?: string;
  tls?: ServeTls;
  jit?: ServeJit;
  /**
   * How long a JIT request or a scheduled run waits for the state lock held by another run (an apply in CI), e.g. 30s or 2m. Default 30s. A JIT request that waited in vain is answered 503 with Retry-After; a scheduled run that did is counted as skipped.
   */
  lockTimeout?: string;
  /**
   * The IANA time zone of the schedules, e.g. Europe/Berlin. Default UTC.
   */
  timezone?: string;
}
/**
 * Serve HTTPS. With ca, every client must present a certificate that ca signed (mTLS), and JIT requests are authenticated by it.
 */
export interface ServeTls {
  /**
   * PEM certificate (chain) file, relative to the config.
   */
  cert: string;
  /**
   * PEM private key file, relative to the config.
   */
  key: string;
  /**
   * PEM file of the CA(s) that sign client certificates: turns on mTLS.
   */
  ca?: string;
}
/**
 * Accept JIT requests: POST /jit/APP with one account's attributes as a JSON object, for an import app. Each request needs Authorization: Bearer SECRET, or a client certificate when tls.ca is set.
 */
export interface ServeJit {
  /**
   * The shared secret (at least 32 characters), normally ${env:IDPLANE_JIT_SECRET}. Never logged.
   */
  secret?: string;
  /**
   * The import apps that accept JIT. Default: every import app.
   */
  apps?: string[];
}
