/**
 * The snippets of the README, docs/ and the examples' READMEs are what people paste: every ```yaml block
 * must be YAML that parses, every ```json block JSON, and every key a YAML block writes at the top of
 * a config (version, state, directory, users, apps, serve, …) must be one the config schema knows, so a
 * renamed key in the schema shows up here; a block that is a whole config (it has `version`) must
 * validate against the schema as it is. (docs/library.md's ```ts example is run and type-checked by
 * test/library.test.ts.)
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parseDocument } from 'yaml';
import schema from '../schemas/config.schema.json' with { type: 'json' };
import { REPO } from './cli-helpers.ts';

interface Snippet {
  file: string;
  line: number;
  language: string;
  text: string;
}

async function markdownFiles(): Promise<string[]> {
  const examples = (await readdir(join(REPO, 'examples'), { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => `examples/${e.name}/README.md`);
  const docs = (await readdir(join(REPO, 'docs'))).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`);
  return ['README.md', ...docs, ...examples];
}

async function snippets(): Promise<Snippet[]> {
  const out: Snippet[] = [];
  for (const file of await markdownFiles()) {
    const text = await readFile(join(REPO, file), 'utf8').catch(() => null);
    if (text === null) continue;
    for (const m of text.matchAll(/^```(\w+)\n([\s\S]*?)^```$/gm)) {
      out.push({ file, line: text.slice(0, m.index).split('\n').length, language: m[1]!, text: m[2]! });
    }
  }
  return out;
}

const TOP_LEVEL = new Set(Object.keys((schema as { properties: Record<string, unknown> }).properties));

describe('the snippets of the README and docs', () => {
  it('are valid YAML and JSON, and name only top-level config keys the schema knows', async () => {
    const all = await snippets();
    const yaml = all.filter((s) => s.language === 'yaml');
    const validate = new Ajv2020({ strict: false, allErrors: true }).compile(schema);
    let whole = 0;
    expect(yaml.length).toBeGreaterThan(10);
    for (const s of yaml) {
      const doc = parseDocument(s.text);
      expect(doc.errors.map((e) => e.message), `${s.file}:${s.line}`).toEqual([]);
      const value: unknown = doc.toJS();
      // A snippet that is a piece of a config (not a whole other document) writes config keys at its top.
      if (value && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).some((k) => TOP_LEVEL.has(k))) {
        const unknown = Object.keys(value).filter((k) => !TOP_LEVEL.has(k));
        expect(unknown, `${s.file}:${s.line}: keys the config schema does not have`).toEqual([]);
        if ('version' in value) {
          whole += 1;
          expect(validate(value) ? [] : validate.errors, `${s.file}:${s.line}: not a valid config`).toEqual([]);
        }
      }
    }
    expect(whole).toBeGreaterThan(0);
    for (const s of all.filter((x) => x.language === 'json')) expect(() => JSON.parse(s.text), `${s.file}:${s.line}`).not.toThrow();
  });

  it('write inline config settings (`key: { … }` in prose and in the CI examples\' comments) as YAML that parses', async () => {
    const files = [...(await markdownFiles()), 'examples/ci/github-actions.yml', 'examples/ci/gitlab-ci.yml'];
    let seen = 0;
    for (const file of files) {
      const text = await readFile(join(REPO, file), 'utf8').catch(() => null);
      if (text === null) continue;
      // A flow mapping after a config key, as one would paste it: `state: { backend: postgres, url: "${env:URL}" }`.
      for (const m of text.matchAll(/`([A-Za-z][\w.]*: \{[^`\n]*\})`/g)) {
        seen += 1;
        const doc = parseDocument(m[1]!);
        expect(doc.errors.map((e) => e.message), `${file}:${text.slice(0, m.index).split('\n').length}: ${m[1]}`).toEqual([]);
      }
    }
    expect(seen).toBeGreaterThan(3);
  });
});
