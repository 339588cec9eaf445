/** Providers: the edges that read from and write to apps. */
export { ProviderError } from './errors.ts';
export { readCsvAccounts, type CsvReadOptions } from './csv/read.ts';
export { readSources, type ReadContext } from './read-sources.ts';
