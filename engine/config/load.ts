/**
 * Loading: reads idplane.yaml and the files it includes, merges them while remembering where each value
 * came from, and resolves ${env:NAME} and ${file:PATH} references (a secret kept in a file, such as a
 * mounted Kubernetes secret: its content with trailing line breaks removed; PATH relative to the
 * config's folder). All I/O of configuration happens here; validation of
 * the merged value is pure (validate.ts). Every problem carries its file, line and column.
 */
import { readFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { fromPointer, toPointer, type ConfigProblem } from './problems.ts';
import { parseYaml, positionInScalar, positionOf, type YamlSource } from './yaml-source.ts';
import { registerSecrets } from '../secrets.ts';

export const CONFIG_FILE = 'idplane.yaml';

/** Where merged values came from: the longest matching prefix wins. */
interface Origin {
  prefix: string[];
  source: YamlSource;
  docPath: (string | number)[];
}

export interface LoadedConfig {
  dir: string;
  /** The merged config with ${env:…} resolved. Not validated yet. */
  value: Record<string, unknown>;
  /** The merged config before ${env:…} resolution, for fingerprints that never hold secrets. */
  unresolved: Record<string, unknown>;
  /** JSON pointers of values that came from the environment (treated as secrets in messages). */
  fromEnv: Set<string>;
  locate(pointer: string, key?: boolean): { file: string; line: number; col: number };
  locateInScalar(pointer: string, offset: number): { file: string; line: number; col: number };
}

export type LoadOutcome = { ok: true; config: LoadedConfig } | { ok: false; problems: ConfigProblem[] };

/** Keys an included file may define; the rest belong to idplane.yaml alone. */
const INCLUDABLE = new Set(['apps', 'directory', 'users', 'links']);

/**
 * Where the config files come from: the file system by default; `plan --git-base REF` reads them as
 * they are at a git commit (engine/git-base.ts), naming them REF:path in problems.
 */
export interface ConfigFiles {
  read(path: string): Promise<string>;
  display(path: string): string;
}

export async function loadConfig(dir: string, env: Record<string, string | undefined>, cwd = process.cwd(), files?: ConfigFiles): Promise<LoadOutcome> {
  const show = files ? files.display : (path: string) => relative(cwd, path) || path;
  const read = files ? files.read : (path: string) => readFile(path, 'utf8');
  const budget = { left: MAX_CONFIG_CHARS };
  const readSource = (path: string, display: string, includedFrom?: { source: YamlSource; docPath: (string | number)[] }) => readSourceWith(read, path, display, budget, includedFrom);
  const mainPath = join(dir, CONFIG_FILE);
  const main = await readSource(mainPath, show(mainPath));
  if (!main.ok) return main;
  const problems: ConfigProblem[] = [];
  const root = asObject(main.value);
  if (!root) return { ok: false, problems: [{ severity: 'error', file: main.source.display, line: 1, col: 1, pointer: '', message: 'the config must be a YAML mapping (key: value pairs)' }] };
  const origins: Origin[] = [{ prefix: [], source: main.source, docPath: [] }];
  const merged: Record<string, unknown> = structuredClone(root);

  const includes = Array.isArray(root.include) ? root.include : [];
  for (const [i, entry] of includes.entries()) {
    if (typeof entry !== 'string') continue; // the schema reports it
    const path = resolve(dir, entry);
    const inc = await readSource(path, show(path), { source: main.source, docPath: ['include', i] });
    if (!inc.ok) {
      problems.push(...inc.problems);
      continue;
    }
    mergeInclude(merged, inc.value, inc.source, origins, problems);
  }

  const locate = (pointer: string, key = false) => {
    const { origin, rest } = originOf(origins, fromPointer(pointer));
    return { file: origin.source.display, ...positionOf(origin.source, [...origin.docPath, ...rest], key) };
  };
  const locateInScalar = (pointer: string, offset: number) => {
    const { origin, rest } = originOf(origins, fromPointer(pointer));
    return { file: origin.source.display, ...positionInScalar(origin.source, [...origin.docPath, ...rest], offset) };
  };
  const fromEnv = new Set<string>();
  const secretFiles = await readSecretFiles(merged, dir);
  const value = resolveEnv(merged, [], env, secretFiles, fromEnv, (pointer, message) => problems.push({ severity: 'error', ...locate(pointer), pointer, message })) as Record<string, unknown>;
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, config: { dir, value, unresolved: merged, fromEnv, locate, locateInScalar } };
}

/**
 * The most text the config's files may hold together (8 MiB of characters). A config is kilobytes (a large
 * one with thousands of links: a megabyte); a YAML parse of tens of megabytes takes a minute and gigabytes,
 * so a runaway generated file is refused, named, before it is parsed.
 */
export const MAX_CONFIG_CHARS = 8 * 2 ** 20;

async function readSourceWith(read: (path: string) => Promise<string>, path: string, display: string, budget: { left: number }, includedFrom?: { source: YamlSource; docPath: (string | number)[] }) {
  let text: string;
  try {
    text = await read(path);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (error as Error).message;
    const at = includedFrom ? { file: includedFrom.source.display, ...positionOf(includedFrom.source, includedFrom.docPath) } : { file: display, line: 0, col: 0 };
    const message = includedFrom ? `cannot include ${display}: ${reason}` : `cannot read ${display}: ${reason}${display.endsWith(CONFIG_FILE) ? ` (run idplane in the folder holding ${CONFIG_FILE}, or pass -C DIR)` : ''}`;
    return { ok: false as const, problems: [{ severity: 'error' as const, ...at, pointer: includedFrom ? toPointer(includedFrom.docPath) : '', message }] };
  }
  budget.left -= text.length;
  if (budget.left < 0) {
    const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
    return { ok: false as const, problems: [{ severity: 'error' as const, file: display, line: 1, col: 1, pointer: '', message: `${display} (${mib(text.length)}) takes the config past its limit of ${mib(MAX_CONFIG_CHARS)} of text in all files: a config is kilobytes; is this a generated or wrong file?` }] };
  }
  return parseYaml(display, text.replace(/^\uFEFF/, ''));
}

function mergeInclude(merged: Record<string, unknown>, value: unknown, source: YamlSource, origins: Origin[], problems: ConfigProblem[]): void {
  const top = asObject(value);
  const problem = (docPath: (string | number)[], message: string, key = false): void => {
    problems.push({ severity: 'error', file: source.display, ...positionOf(source, docPath, key), pointer: toPointer(docPath), message });
  };
  if (!top) return problem([], 'an included file must be a YAML mapping');
  for (const [section, content] of Object.entries(top)) {
    if (!INCLUDABLE.has(section)) {
      problem([section], `${section} may only be set in ${CONFIG_FILE}; an included file may define ${[...INCLUDABLE].join(', ')}`, true);
      continue;
    }
    if (section === 'users' || section === 'links') {
      if (!Array.isArray(content)) {
        problem([section], `${section} must be a list`); // and go on: report the file's other problems too
        continue;
      }
      const list = (merged[section] ??= []) as unknown[];
      if (!Array.isArray(list)) continue;
      content.forEach((item, j) => {
        origins.push({ prefix: [section, String(list.length)], source, docPath: [section, j] });
        list.push(item);
      });
      continue;
    }
    const entries = section === 'apps' ? asObject(content) : asObject(asObject(content)?.attributes);
    const extra = section === 'directory' ? Object.keys(asObject(content) ?? {}).filter((k) => k !== 'attributes') : [];
    for (const k of extra) problem([section, k], `directory.${k} may only be set in ${CONFIG_FILE}`, true);
    if (!entries) {
      problem([section], section === 'apps' ? 'apps must be a mapping of app names' : 'directory.attributes must be a mapping');
      continue;
    }
    const targetPath = section === 'apps' ? ['apps'] : ['directory', 'attributes'];
    const target = ensureObject(merged, targetPath);
    for (const [name, item] of Object.entries(entries)) {
      const path = [...targetPath, name];
      if (Object.hasOwn(target, name)) { // not `in`: "constructor" is a fine attribute name
        const first = originOf(origins, path);
        const where = `${first.origin.source.display}:${positionOf(first.origin.source, [...first.origin.docPath, ...first.rest], true).line}`;
        problem(path, `duplicate ${section === 'apps' ? 'app' : 'attribute'} ${JSON.stringify(name)}: already defined at ${where}`, true);
        continue;
      }
      target[name] = item;
      origins.push({ prefix: path, source, docPath: path });
    }
  }
}

function originOf(origins: Origin[], segments: string[]): { origin: Origin; rest: string[] } {
  let best = origins[0]!;
  for (const o of origins) {
    if (o.prefix.length > best.prefix.length && o.prefix.length <= segments.length && o.prefix.every((p, i) => p === segments[i])) best = o;
  }
  return { origin: best, rest: segments.slice(best.prefix.length) };
}

const FILE_REF = /\$\{file:([^}]+)\}/g;
const ANY_REF = /\$\{(env|file):([^}]+)\}/g;

/** A secret file's content, or why it could not be read. */
type SecretFile = { ok: true; value: string } | { ok: false; reason: string };

/** Reads every file a ${file:PATH} names, once each, relative to the config's folder. */
async function readSecretFiles(value: unknown, dir: string): Promise<Map<string, SecretFile>> {
  const paths = new Set<string>();
  const walk = (v: unknown): void => {
    if (typeof v === 'string') {
      for (const m of v.matchAll(FILE_REF)) paths.add(m[1]!);
    } else if (Array.isArray(v)) v.forEach(walk);
    else if (asObject(v)) Object.values(v as object).forEach(walk);
  };
  walk(value);
  const out = new Map<string, SecretFile>();
  await Promise.all([...paths].map(async (p) => {
    try {
      out.set(p, { ok: true, value: (await readFile(resolve(dir, p), 'utf8')).replace(/[\r\n]+$/, '') });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      out.set(p, { ok: false, reason: code === 'ENOENT' ? 'file not found' : code ?? (error as Error).message });
    }
  }));
  return out;
}

function resolveEnv(value: unknown, path: string[], env: Record<string, string | undefined>, files: Map<string, SecretFile>, fromEnv: Set<string>, fail: (pointer: string, message: string) => void): unknown {
  if (typeof value === 'string') {
    if (!value.includes('${env:') && !value.includes('${file:')) return value;
    const pointer = toPointer(path);
    fromEnv.add(pointer);
    return value.replace(ANY_REF, (whole, kind: string, name: string) => {
      if (kind === 'file') {
        const file = files.get(name)!;
        if (!file.ok) fail(pointer, `cannot read the secret file ${name}: ${file.reason}`);
        if (file.ok) registerSecrets([file.value, file.value.trim()]);
        return file.ok ? file.value : '';
      }
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) return whole;
      const v = env[name];
      if (v === undefined) fail(pointer, `environment variable ${name} is not set`);
      // Every value taken from the environment or a file is a secret from here on (engine/secrets.ts).
      else registerSecrets([v]);
      return v ?? '';
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => resolveEnv(v, [...path, String(i)], env, files, fromEnv, fail));
  const obj = asObject(value);
  if (!obj) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) out[k] = resolveEnv(v, [...path, k], env, files, fromEnv, fail);
  return out;
}

function asObject(value: unknown): Record<string, unknown> | null {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}

function ensureObject(root: Record<string, unknown>, path: string[]): Record<string, unknown> {
  let node = root;
  for (const segment of path) {
    const next = asObject(node[segment]);
    if (next) node = next;
    else node = (node[segment] = {}) as Record<string, unknown>;
  }
  return node;
}

