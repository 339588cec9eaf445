/**
 * Errors a provider raises when it cannot read an app at all (as opposed to a bad row, which is reported
 * in the snapshot). The message names the app and the place.
 */
import { redactSecrets } from '../engine/secrets.ts';

export class ProviderError extends Error {
  readonly code = 'PROVIDER_ERROR';
  readonly app: string;

  constructor(app: string, message: string) {
    super(redactSecrets(`${app}: ${message}`));
    this.app = app;
  }
}
