/**
 * `-C DIR` means every relative path on the command line, as Terraform's -chdir does: a plan file
 * given to plan --out, apply or show is found in DIR, like idplane.yaml. Paths stay relative to the
 * shell's directory (DIR/FILE) so messages name them the way the user would type them.
 */
import { isAbsolute, join } from 'node:path';

export function inDir(dir: string, path: string): string {
  return isAbsolute(path) ? path : join(dir, path);
}

/** The command line that runs `args` in `dir`, quoted for a POSIX shell where needed. */
export function commandLine(dir: string, args: string[]): string {
  return ['idplane', ...(dir === '.' || dir === '' ? [] : ['-C', dir]), ...args].map(shellWord).join(' ');
}

function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
