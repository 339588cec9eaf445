/** Providers: the edges that read from and write to apps. */
export { ProviderError } from './errors.ts';
export { readCsvAccounts, type CsvReadOptions } from './csv/read.ts';
export { readSources, type ReadContext } from './read-sources.ts';
export { readTargets } from './read-sources.ts';
export { applyTargets, type ChangeResult } from './write-targets.ts';
export { applyCsvTarget } from './csv/write.ts';
