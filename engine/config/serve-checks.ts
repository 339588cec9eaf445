/**
 * Checks of what `idplane serve` reads that the JSON Schema cannot express: each app's `schedule` is a
 * cron expression croner accepts, on an app with an import: section; `serve.timezone` is an IANA zone;
 * `serve.jit` names import apps only and is authenticated (a secret of at least 32 characters, or a
 * client CA for mTLS). Pure: reports through `at`, so `idplane validate` shows each with file:line:col.
 */
import { Cron } from 'croner';
import type { IdplaneConfig } from '../../schemas/generated/config.ts';
import { toPointer, type At } from './problems.ts';

/** The shortest JIT secret accepted: 32 characters, as for plan.signingKey. */
export const MIN_JIT_SECRET = 32;

export function checkServe(config: IdplaneConfig, at: At): void {
  const serve = config.serve;
  const timezone = serve?.timezone;
  let zoneOk = true;
  if (timezone !== undefined) {
    try {
      new Intl.DateTimeFormat('en', { timeZone: timezone });
    } catch {
      zoneOk = false;
      at(toPointer(['serve', 'timezone']), `${JSON.stringify(timezone)} is not an IANA time zone (such as UTC or Europe/Berlin)`);
    }
  }
  for (const [name, app] of Object.entries(config.apps)) {
    if (app.schedule === undefined) continue;
    const pointer = toPointer(['apps', name, 'schedule']);
    if (!app.import) at(pointer, `${name} has a schedule but no import: section; a scheduled run imports the app`);
    const problem = cronProblem(app.schedule, zoneOk ? timezone : undefined);
    if (problem) at(pointer, `schedule ${JSON.stringify(app.schedule)} is not a cron expression: ${problem}`);
  }
  const jit = serve?.jit;
  if (!jit) return;
  jit.apps?.forEach((app, i) => {
    const found = Object.hasOwn(config.apps, app) ? config.apps[app] : undefined;
    if (!found) at(toPointer(['serve', 'jit', 'apps', i]), `unknown app ${JSON.stringify(app)}`);
    else if (!found.import) at(toPointer(['serve', 'jit', 'apps', i]), `${app} has no import: section, so it cannot take JIT requests`);
  });
  if (jit.secret === undefined && !serve?.tls?.ca) {
    at(toPointer(['serve', 'jit']), 'JIT requests must be authenticated: set serve.jit.secret (Authorization: Bearer), or serve.tls.ca for client certificates (mTLS), or both', true);
  }
  if (jit.secret !== undefined && jit.secret.length < MIN_JIT_SECRET) {
    at(toPointer(['serve', 'jit', 'secret']), `the JIT secret must be at least ${MIN_JIT_SECRET} characters long (it has ${jit.secret.length})`);
  }
}

/** Why croner refuses a pattern, or null when it accepts it. */
export function cronProblem(pattern: string, timezone?: string): string | null {
  try {
    new Cron(pattern, { paused: true, ...(timezone ? { timezone } : {}) }).stop();
    return null;
  } catch (error) {
    return (error as Error).message.replace(/^CronPattern: /, '');
  }
}
