/**
 * Writes one "## Section" of bench/RESULTS.md, replacing that section only, so each benchmark owns its
 * part of the file and re-running one leaves the others alone.
 */
import { readFile, writeFile } from 'node:fs/promises';

export const RESULTS = new URL('./RESULTS.md', import.meta.url);

export async function writeResultsSection(heading: string, body: string): Promise<void> {
  let text: string;
  try {
    text = await readFile(RESULTS, 'utf8');
  } catch {
    text = '# Benchmark results\n';
  }
  const section = `## ${heading}\n\n${body.trim()}\n`;
  const start = text.indexOf(`## ${heading}\n`);
  if (start < 0) {
    text = `${text.trimEnd()}\n\n${section}`;
  } else {
    const next = text.indexOf('\n## ', start + 3);
    text = text.slice(0, start) + section + (next < 0 ? '' : text.slice(next));
  }
  await writeFile(RESULTS, text.endsWith('\n') ? text : `${text}\n`);
}
