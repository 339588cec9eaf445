/** Durations as people write them: "30s", "2m", "500ms", or plain seconds ("45"). */

/** The duration in milliseconds, or null when the text is not one. */
export function durationMs(value: string): number | null {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(value.trim());
  if (!m) return null;
  const n = Number(m[1]);
  return Math.round(m[2] === 'ms' ? n : m[2] === 'm' ? n * 60_000 : n * 1000);
}
