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

/** The last values imported for one account (what the source said when we last applied). */
export interface ImportedRecord {
  attributes: Record<string, string>;
  disabled: boolean;
}

/** The directory as the state backend holds it. */
export interface DirectoryState {
  /** null until the first apply writes the state. */
  lineage: string | null;
  serial: number;
  users: UserRecord[];
  links: StoredLink[];
  /** app → account key → last imported record. */
  imported: Record<string, Record<string, ImportedRecord>>;
  /** app → highest watermark applied by an incremental import. */
  watermarks: Record<string, string>;
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
export interface Project {
  attributes: Record<string, AttributeConfig>;
  protectRoles: string[];
  declaredUsers: DeclaredUser[];
  /** Import apps, highest priority first. */
  profileSources: string[];
  links: { app: string; key: string; user: string }[];
  apps: Record<string, CompiledApp>;
  /** Safeguard thresholds with the defaults filled in. */
  safeguards: SafeguardsConfig;
  /** Directory-owned attribute values and roles set in config, by lower-cased login. */
  setValues: Map<string, { attributes: Record<string, unknown>; roles?: string[] }>;
}

/**
 * The stored record of one account. Own properties only: an app or key named like an Object.prototype
 * member ("constructor", "toString") must not find the prototype's.
 */
export function importedRecord(imported: DirectoryState['imported'], app: string, key: string): ImportedRecord | undefined {
  const records = Object.hasOwn(imported, app) ? imported[app]! : undefined;
  return records && Object.hasOwn(records, key) ? records[key] : undefined;
}

export function emptyState(): DirectoryState {
  return { lineage: null, serial: 0, users: [], links: [], imported: {}, watermarks: {} };
}
