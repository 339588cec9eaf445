/**
 * The in-memory data the pure core works on: snapshots read by providers and state, and the compiled
 * project made from a validated config. Nothing here does I/O; stages take these values and return values.
 */
import type { AppConfig, AttributeConfig, DeclaredUser, SafeguardsConfig } from '../schemas/generated/config.ts';
import type { UserRecord, UserStatus } from '../schemas/generated/plan.ts';
import type { CompiledExpression } from './expressions.ts';
import type { CompiledMatchRule } from './match-rules.ts';

export type { UserRecord, UserStatus };

/** A profile value as stored: strings, numbers, booleans and string lists. Unset attributes are absent. */
export type ProfileValue = string | number | boolean | string[];
export type Profile = Record<string, ProfileValue>;

/** One account as an import source read it. Values are strings; '' means empty. */
export interface SourceAccount {
  key: string;
  attributes: Record<string, string>;
  /** 1-based line in the source file, when the provider knows it. */
  line?: number;
  /** Set on an account this run did not read, completed from its stored record (select.ts). */
  readonly stored?: true;
}

/** A row the provider could not read. It never counts as a missing account. */
export interface RowError {
  line: number;
  message: string;
  /** The row's key, when it could still be recovered. */
  key?: string;
}

/** Everything one import source returned in this run. */
export interface SourceSnapshot {
  app: string;
  accounts: SourceAccount[];
  /**
   * The attribute names the provider reports, in its order (a CSV header). Every account's attributes
   * use these names; absent when the provider has no fixed column list.
   */
  columns?: string[];
  rowErrors: RowError[];
  /** SHA-256 of the raw input, for the plan's fingerprints. */
  fingerprint: string;
  /**
   * Set when this is not the app's whole account list (an incremental import, JIT). Accounts absent
   * from a partial snapshot are never treated as missing.
   */
  partial?: boolean;
}

export interface StoredLink {
  app: string;
  key: string;
  userId: string;
}

/**
 * The last values imported for one account (what the source said when we last applied), packed: one
 * string per account instead of an object per attribute, so a million records stay small and an
 * unchanged account is recognised by comparing two strings (reconciler/records.ts packs and unpacks).
 */
export interface ImportedRecord {
  /** JSON array text of the values in the app's column order (AppRecords.columns); trailing empty values left out. */
  values: string;
  disabled: boolean;
}

/** One app's imported records: the column names, once, and a record per account key. */
export interface AppRecords {
  /** Every attribute name this app's records use, in a fixed order (new names are appended). */
  columns: string[];
  records: Map<string, ImportedRecord>;
}

/** The directory as the state backend holds it. */
export interface DirectoryState {
  /** null until the first apply writes the state. */
  lineage: string | null;
  serial: number;
  users: UserRecord[];
  links: StoredLink[];
  /** app → its last imported records. */
  imported: Map<string, AppRecords>;
  /** app → highest watermark applied by an incremental import. */
  watermarks: Record<string, string>;
  /**
   * The pipeline fingerprint (Project.pipelineFingerprint) of the config that last evaluated every user,
   * or null. While it equals the current config's, a user whose accounts did not change is not re-mapped.
   */
  pipeline: string | null;
  /**
   * Set by the store when the stored directory may differ from what idplane wrote (edited outside
   * idplane): the next plan then re-checks every user, so out-of-band edits are found and restored.
   */
  edited: boolean;
  /** Identifies the stored content (set by the store on read); a saved plan made on other content is stale. */
  digest: string | null;
}

export type DisabledPolicy = 'deactivate' | 'suspend' | 'none';

export interface CompiledMapping {
  attribute: string;
  expression: CompiledExpression;
}

export interface CompiledImport {
  mode: 'full' | 'incremental';
  /** incremental: the column holding the change marker. */
  watermark: string | null;
  match: CompiledMatchRule[];
  onMatch: 'link' | 'review';
  onNoMatch: 'create' | 'review' | 'ignore';
  newUserStatus: 'STAGED' | 'ACTIVE';
  disabled: CompiledExpression | null;
  onDisabled: DisabledPolicy;
  onMissing: DisabledPolicy;
  reactivate: { suspended: boolean; deactivated: boolean };
  mappings: CompiledMapping[];
}

export interface CompiledOutboundMapping {
  attribute: string;
  expression: CompiledExpression;
  on: 'create' | 'always';
}

export interface CompiledProvision {
  /** null: every user is assigned. */
  assign: CompiledExpression | null;
  create: boolean;
  update: boolean;
  deactivate: boolean;
  delete: boolean;
  match: { app: string; user: string } | null;
  status: { attribute: string; enabled: string; disabled: string };
  mappings: CompiledOutboundMapping[];
  /** Write-back: app attributes this app's own import reads. They are never written. */
  sourcedAttributes: Set<string>;
  /** ldap: where entries live (provision.dn): the RDN attribute (mapped) and the parent DN (CEL over user). */
  dn?: { rdn: string; parent: CompiledExpression };
}

export interface CompiledApp {
  name: string;
  config: AppConfig;
  key: string;
  import: CompiledImport | null;
  provision: CompiledProvision | null;
}

/** A validated config with its expressions compiled once, ready for the core. */
/** A plan policy (`policies:`), compiled: reconciler/policies.ts evaluates it over the plan's changes. */
export interface CompiledPolicy {
  name: string;
  description?: string;
  max: number;
  when: CompiledExpression;
}

export interface Project {
  attributes: Record<string, AttributeConfig>;
  protectRoles: string[];
  declaredUsers: DeclaredUser[];
  /** Import apps, highest priority first. */
  profileSources: string[];
  links: { app: string; key: string; user: string }[];
  apps: Record<string, CompiledApp>;
  /** Plan policies, compiled (policies.ts). */
  policies: CompiledPolicy[];
  /** Safeguard thresholds with the defaults filled in. */
  safeguards: SafeguardsConfig;
  /** Directory-owned attribute values and roles set in config, by lower-cased login. */
  setValues: Map<string, { attributes: Record<string, unknown>; roles?: string[] }>;
  /**
   * SHA-256 of everything in the config that decides a user's record from their accounts (attributes,
   * profile sources, imports, declared users, links, set:, protection). Stored with the state; while it
   * is unchanged, users whose accounts did not change keep their record without being mapped again.
   */
  pipelineFingerprint: string;
}

/** One key for an account of an app, for sets and maps. */
export const accountId = (app: string, key: string): string => `${app}\u0000${key}`;

/** The stored record of one account, if any. */
export function importedRecord(imported: DirectoryState['imported'], app: string, key: string): ImportedRecord | undefined {
  return imported.get(app)?.records.get(key);
}

export function emptyState(): DirectoryState {
  return { lineage: null, serial: 0, users: [], links: [], imported: new Map(), watermarks: {}, pipeline: null, edited: false, digest: null };
}
