/**
 * What both database backends (the embedded SQLite store and PostgreSQL) keep in their meta row and how
 * they identify the stored content: the digest is the last write's random token and the count of rows or
 * statements that changed the state tables outside idplane since (counted by triggers), so any write, by
 * idplane or by anyone else, gives another digest; `edited` is set when the last write said so or when
 * that count moved since the last write that checked every user.
 */

/** The meta row as reads and writes use it. */
export interface StoredMeta {
  lineage: string | null;
  serial: number;
  watermarks: Record<string, string>;
  pipeline: string | null;
  /** The stored flag, or outside writes since the last write that checked everyone. */
  edited: boolean;
  digest: string | null;
  outsideWrites: number;
}

/** What identifies the stored content: the last write's token, and how many outside changes since. */
export const digestOf = (token: string | null, outsideWrites: number): string => `${token ?? 'none'}:${outsideWrites}`;
