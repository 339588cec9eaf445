/**
 * idplane's version: package.json's `version`. The JSON is imported, not read through a path relative to
 * this module, so it stays right in the build (esbuild inlines it into dist/) and from the sources alike.
 */
import packageJson from '../package.json' with { type: 'json' };

export const VERSION: string = packageJson.version;
