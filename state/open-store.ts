/**
 * Opens the state backend a config names: the embedded SQLite store by default (in `state.path`,
 * default .idplane, relative to the config's folder), or PostgreSQL. Each is imported only when named,
 * so a run on the embedded store never loads pg. Opening connects to nothing yet: the store does on
 * first use (so `force-unlock` and `state restore` work on a database that cannot be opened). `notice`
 * is told what the user should know though nothing failed (an abandoned lock taken over, an embedded
 * state of the former format migrated to SQLite); without one, notices go to stderr, so that a
 * migration never passes unsaid whichever command meets it first.
 */
import { resolve } from 'node:path';
import type { StateConfig } from '../schemas/generated/config.ts';
import type { StateStore } from './types.ts';

const toStderr = (message: string): void => void process.stderr.write(`${message}\n`);

export async function openStateStore(config: StateConfig | undefined, configDir: string, notice: (message: string) => void = toStderr): Promise<StateStore> {
  if (config?.backend === 'postgres') {
    const { PostgresStore } = await import('./postgres/store.ts');
    return new PostgresStore({ url: config.url!, schema: config.schema ?? 'idplane', notice });
  }
  const { EmbeddedStore } = await import('./embedded/store.ts');
  return new EmbeddedStore({ dir: resolve(configDir, config?.path ?? '.idplane'), notice });
}
