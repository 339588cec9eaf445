/**
 * Micro-benchmark choosing the CEL engine for idplane's attribute mappings: @marcbachmann/cel-js vs @bufbuild/cel.
 *
 * Workload: the variable `app` is a CSV HR row (a map of string -> string) and four expressions typical of a
 * mapping file are compiled once and then evaluated over and over. For each library and expression we report
 *   - compile µs: mean time of one compile (marcbachmann: env.parse + check; bufbuild: parse + plan),
 *     median over several rounds after a warm-up;
 *   - evals/s: evaluations per second of the compiled expression, median over several rounds of ~2 s each
 *     after a warm-up. Rounds of the two libraries are interleaved so machine drift hits both alike.
 *
 * Prints a markdown table (plus the machine) to stdout and writes the section "## CEL engine choice" into
 * bench/RESULTS.md (creating the file if needed, leaving other sections alone).
 *
 * Run: node bench/cel-engines.ts    (env: CEL_BENCH_SECONDS=2 CEL_BENCH_ROUNDS=5 to shorten/lengthen)
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Environment } from '@marcbachmann/cel-js';
import { CelScalar, celEnv, isCelError, mapType, parse as bufParse, plan as bufPlan } from '@bufbuild/cel';
import { strings as bufStrings } from '@bufbuild/cel/ext';
import { writeResultsSection } from './results-file.ts';

const SECONDS = Number(process.env.CEL_BENCH_SECONDS ?? 2);
const ROUNDS = Number(process.env.CEL_BENCH_ROUNDS ?? 5);
const WARMUP_SECONDS = Math.min(0.5, SECONDS / 2);
const COMPILE_ROUND_MS = 150;
const BATCH = 1_000;

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const resultsFile = path.join(repoRoot, 'bench', 'RESULTS.md');
const SECTION_HEADING = '## CEL engine choice';

type Row = Record<string, string>;

// A handful of HR rows so the evaluations do not always see the very same object and every branch is taken.
const baseRow: Row = {
  employee_id: '1042',
  first_name: 'Zoë',
  last_name: 'Müller',
  work_email: 'Zoe.Mueller@example.com',
  department: 'Sales',
  status: 'Active',
  employment_type: 'Employee',
};
const ROWS: Row[] = [
  baseRow,
  { ...baseRow, employee_id: '1043', first_name: 'Jean-Luc', last_name: 'Picard', work_email: 'JL.Picard@example.com', employment_type: 'Contractor' },
  { ...baseRow, employee_id: '1044', first_name: 'Ana', last_name: 'García', work_email: 'Ana.Garcia@Example.com', status: 'Terminated' },
  { ...baseRow, employee_id: '1045', first_name: 'Bob', last_name: 'Smith', work_email: 'BOB.SMITH@EXAMPLE.COM', department: 'IT' },
  { ...baseRow, employee_id: '1046', first_name: 'Øyvind', last_name: 'Ås', work_email: 'oyvind.as@example.com', employment_type: 'Contractor' },
  { ...baseRow, employee_id: '1047', first_name: 'Mei', last_name: 'Chen', work_email: 'Mei.Chen@example.com', status: 'Terminated' },
  { ...baseRow, employee_id: '1048', first_name: 'Ravi', last_name: 'Patel', work_email: 'Ravi.Patel@example.com', department: 'Finance' },
  { ...baseRow, employee_id: '1049', first_name: 'Olu', last_name: 'Adeyemi', work_email: 'Olu.Adeyemi@example.com' },
];
const ROW_MASK = ROWS.length - 1; // ROWS.length is a power of two

interface Case {
  id: string;
  text: string;
  note?: string;
}
const CASES: Case[] = [
  { id: 'a', text: 'app.first_name + " " + app.last_name' },
  {
    id: 'b',
    text: 'app.work_email.lowerAscii()',
    note:
      'marcbachmann: built in, but implemented with String.prototype.toLowerCase (lower-cases non-ASCII too); ' +
      'bufbuild: needs the `strings` extension from @bufbuild/cel/ext, ASCII-only as the CEL spec says',
  },
  { id: 'c', text: 'app.status == "Terminated"' },
  { id: 'd', text: 'app.employment_type == "Contractor" ? "contractor" : "employee"' },
];

type Vars = { app: Row; user: Row; source: string };
type Evaluator = (vars: Vars) => unknown;

interface Engine {
  name: string;
  pkg: string;
  compile(text: string): Evaluator;
}

// ---- @marcbachmann/cel-js -------------------------------------------------------------------------------
// Same options as reconciler/expressions.ts.
const marcEnv = new Environment({ enableOptionalTypes: true, homogeneousAggregateLiterals: false })
  .registerVariable('app', 'map<string, dyn>')
  .registerVariable('user', 'map<string, dyn>')
  .registerVariable('source', 'string');

const marcbachmann: Engine = {
  name: '@marcbachmann/cel-js',
  pkg: '@marcbachmann/cel-js',
  compile(text) {
    const fn = marcEnv.parse(text);
    // check() type-checks once and caches the types on the AST (otherwise the first evaluation would do it).
    const checked = fn.check();
    if (!checked.valid) throw checked.error ?? new Error(`type check failed: ${text}`);
    return (vars) => fn(vars);
  },
};

// ---- @bufbuild/cel ----------------------------------------------------------------------------------------
const bufEnv = celEnv({
  variables: {
    app: mapType(CelScalar.STRING, CelScalar.DYN),
    user: mapType(CelScalar.STRING, CelScalar.DYN),
    source: CelScalar.STRING,
  },
  funcs: bufStrings,
});

const bufbuild: Engine = {
  name: '@bufbuild/cel',
  pkg: '@bufbuild/cel',
  compile(text) {
    // @bufbuild/cel 0.6.1 does not export its type checker, so "compile" is parse + plan.
    const fn = bufPlan(bufEnv, bufParse(text));
    return (vars) => {
      const r = fn(vars);
      if (isCelError(r)) throw r;
      return r;
    };
  },
};

const ENGINES: Engine[] = [marcbachmann, bufbuild];

// ---- measurement ------------------------------------------------------------------------------------------
let sink = 0; // consumed results, printed at the end so nothing is optimised away

function consume(v: unknown): number {
  if (typeof v === 'string') return v.length;
  return v === true ? 1 : 0;
}

function varsFor(row: Row): Vars {
  return { app: row, user: {}, source: 'hr' };
}
const VARS: Vars[] = ROWS.map(varsFor);

/** Evaluations per second of `fn` over `seconds`. */
function evalRate(fn: Evaluator, seconds: number): number {
  let n = 0;
  let acc = 0;
  const start = performance.now();
  const deadline = start + seconds * 1000;
  let now = start;
  while (now < deadline) {
    for (let i = 0; i < BATCH; i++) acc += consume(fn(VARS[(n + i) & ROW_MASK]!));
    n += BATCH;
    now = performance.now();
  }
  sink += acc;
  return n / ((now - start) / 1000);
}

/** Mean µs of one compile over a short round. */
function compileMicros(engine: Engine, text: string, ms: number): number {
  let n = 0;
  const start = performance.now();
  const deadline = start + ms;
  let now = start;
  while (now < deadline) {
    for (let i = 0; i < 20; i++) sink += engine.compile(text) === undefined ? 1 : 0;
    n += 20;
    now = performance.now();
  }
  return ((now - start) * 1000) / n;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

// ---- package facts ----------------------------------------------------------------------------------------
interface PkgJson {
  version: string;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  engines?: Record<string, string>;
}

function pkgDir(name: string): string {
  return path.join(repoRoot, 'node_modules', ...name.split('/'));
}
function readPkg(name: string): PkgJson {
  return JSON.parse(readFileSync(path.join(pkgDir(name), 'package.json'), 'utf8')) as PkgJson;
}
function projectPkg(): PkgJson {
  return JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as PkgJson;
}
function engines(pj: PkgJson): string {
  return pj.engines?.node ? `\`node ${pj.engines.node}\`` : 'none declared';
}
function dirBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) total += entry.name === 'node_modules' ? 0 : dirBytes(p);
    else if (entry.isFile()) total += statSync(p).size;
  }
  return total;
}
/** The package plus everything it needs at runtime (dependencies and peer dependencies), transitively. */
function footprint(name: string): { packages: string[]; bytes: number } {
  const seen = new Set<string>();
  const visit = (n: string): void => {
    if (seen.has(n) || !existsSync(pkgDir(n))) return;
    seen.add(n);
    const pj = readPkg(n);
    for (const d of Object.keys({ ...pj.dependencies, ...pj.peerDependencies })) visit(d);
  };
  visit(name);
  const packages = [...seen];
  return { packages, bytes: packages.reduce((sum, p) => sum + dirBytes(pkgDir(p)), 0) };
}

// ---- run --------------------------------------------------------------------------------------------------
interface Result {
  engine: Engine;
  version: string;
  kase: Case;
  compileUs: number;
  evalsPerSec: number;
}

function sanityCheck(): void {
  const expected: Record<string, unknown[]> = {
    a: ROWS.map((r) => `${r.first_name} ${r.last_name}`),
    b: ROWS.map((r) => r.work_email!.toLowerCase()), // all e-mails are ASCII, so both lower-casings agree
    c: ROWS.map((r) => r.status === 'Terminated'),
    d: ROWS.map((r) => (r.employment_type === 'Contractor' ? 'contractor' : 'employee')),
  };
  for (const engine of ENGINES) {
    for (const kase of CASES) {
      const fn = engine.compile(kase.text);
      const got = VARS.map((v) => fn(v));
      const want = expected[kase.id]!;
      got.forEach((g, i) => {
        if (g !== want[i]) {
          throw new Error(`${engine.name}: ${kase.text} on row ${i} gave ${String(g)}, expected ${String(want[i])}`);
        }
      });
    }
  }
}

function run(): Result[] {
  sanityCheck();
  const results: Result[] = [];
  for (const kase of CASES) {
    const compiled = ENGINES.map((e) => e.compile(kase.text));
    // warm-up (evaluation and compile paths) for both engines
    ENGINES.forEach((e, i) => {
      evalRate(compiled[i]!, WARMUP_SECONDS);
      compileMicros(e, kase.text, COMPILE_ROUND_MS);
    });
    const rates: number[][] = ENGINES.map(() => []);
    const compiles: number[][] = ENGINES.map(() => []);
    for (let r = 0; r < ROUNDS; r++) {
      // alternate which engine goes first so neither always gets the "fresh" slot
      const order = r % 2 === 0 ? ENGINES.map((_, i) => i) : ENGINES.map((_, i) => ENGINES.length - 1 - i);
      for (const i of order) {
        rates[i]!.push(evalRate(compiled[i]!, SECONDS));
        compiles[i]!.push(compileMicros(ENGINES[i]!, kase.text, COMPILE_ROUND_MS));
      }
    }
    ENGINES.forEach((engine, i) => {
      results.push({
        engine,
        version: readPkg(engine.pkg).version,
        kase,
        compileUs: median(compiles[i]!),
        evalsPerSec: median(rates[i]!),
      });
    });
    process.stderr.write(`  done (${kase.id}) ${kase.text}\n`);
  }
  return results;
}

function fmtInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}
function fmtUs(n: number): string {
  return n < 10 ? n.toFixed(2) : n.toFixed(1);
}
function fmtBytes(n: number): string {
  return n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MB` : `${Math.round(n / 1024)} KB`;
}
function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}
function geomean(xs: number[]): number {
  return Math.exp(xs.reduce((s, x) => s + Math.log(x), 0) / xs.length);
}

function machine(): string {
  const cpus = os.cpus();
  const model = cpus[0]?.model.trim() ?? 'unknown CPU';
  return `${model}, ${cpus.length} cores, Node ${process.version} (${os.platform()} ${os.arch()})`;
}

function table(results: Result[]): string {
  const lines = [
    '| library | version | expression | compile µs | evals/s |',
    '| --- | --- | --- | ---: | ---: |',
    ...results.map(
      (r) =>
        `| ${r.engine.name} | ${r.version} | (${r.kase.id}) \`${r.kase.text}\` | ${fmtUs(r.compileUs)} | ${fmtInt(r.evalsPerSec)} |`,
    ),
  ];
  return lines.join('\n');
}

function section(results: Result[]): string {
  const byEngine = (e: Engine): Result[] => results.filter((r) => r.engine === e);
  const m = byEngine(marcbachmann);
  const b = byEngine(bufbuild);
  const evalRatios = CASES.map((_, i) => m[i]!.evalsPerSec / b[i]!.evalsPerSec);
  const compileRatios = CASES.map((_, i) => b[i]!.compileUs / m[i]!.compileUs);
  const evalRatio = geomean(evalRatios);
  const compileRatio = geomean(compileRatios);
  const fast = evalRatio >= 1 ? marcbachmann : bufbuild;
  const speedText =
    evalRatio >= 1
      ? `@marcbachmann/cel-js evaluates ${evalRatio.toFixed(1)}× faster (geometric mean over the four expressions; ` +
        `per expression ${evalRatios.map((x) => `${x.toFixed(1)}×`).join(', ')})`
      : `@bufbuild/cel evaluates ${(1 / evalRatio).toFixed(1)}× faster (geometric mean over the four expressions; ` +
        `per expression ${evalRatios.map((x) => `${(1 / x).toFixed(1)}×`).join(', ')})`;
  const compileText =
    compileRatio >= 1
      ? `and compiles ${compileRatio.toFixed(1)}× faster`
      : `while @bufbuild/cel compiles ${(1 / compileRatio).toFixed(1)}× faster`;
  // Speed decides unless the gap is within noise (10 %); then upkeep decides, which favours marcbachmann.
  const chosen = Math.abs(Math.log(evalRatio)) < Math.log(1.1) ? marcbachmann : fast;

  const fpM = footprint(marcbachmann.pkg);
  const fpB = footprint(bufbuild.pkg);
  const pjB = readPkg(bufbuild.pkg);
  const slowest = Math.min(...m.map((r) => r.evalsPerSec));
  const perRowUs = (1e6 / slowest) * CASES.length;

  return [
    SECTION_HEADING,
    '',
    `Generated by \`node bench/cel-engines.ts\` on ${new Date().toISOString().slice(0, 10)}.`,
    `Machine: ${machine()}.`,
    `Method: compile once, then evaluate against 8 rotating CSV HR rows (\`app\` = map of string → string); ` +
      `warm-up, then ${ROUNDS} rounds of ~${SECONDS} s per library and expression (interleaved), median reported. ` +
      `"compile µs" is the median per-compile time in a hot loop (marcbachmann: \`env.parse()\` + \`check()\`; ` +
      `bufbuild: \`parse()\` + \`plan()\`); a cold first compile is slower.`,
    '',
    table(results),
    '',
    `Note on (b): ${CASES[1]!.note}.`,
    '',
    `**Choice: ${chosen.name} ${readPkg(chosen.pkg).version}.**`,
    '',
    `- Speed: ${speedText}, ${compileText}. ` +
      (chosen === marcbachmann
        ? `Even its slowest case here runs at ${fmtInt(slowest)} evals/s, i.e. at most ~${perRowUs.toFixed(2)} µs to map all four ` +
          `attributes of a row, ~${Math.ceil((perRowUs * 100_000) / 1000)} ms for a 100k-row import.`
        : `bufbuild wins on speed; note reconciler/expressions.ts is written against marcbachmann and must be revisited.`),
    `- Dependencies: @marcbachmann/cel-js has ${fpM.packages.length - 1} runtime dependencies (${fmtBytes(fpM.bytes)} on disk); ` +
      `@bufbuild/cel pulls in ${fpB.packages.filter((p) => p !== bufbuild.pkg).join(', ')} ` +
      `(${plural(Object.keys(pjB.dependencies ?? {}).length, 'dependency', 'dependencies')} + ` +
      `${plural(Object.keys(pjB.peerDependencies ?? {}).length, 'peer dependency', 'peer dependencies')}, ` +
      `${fmtBytes(fpB.bytes)} on disk in total).`,
    `- Maintenance: @marcbachmann/cel-js is a single-author project already at major version 8 (it makes breaking releases ` +
      `regularly, so the version stays pinned exactly and upgrades go through reconciler/expressions.test.ts); @bufbuild/cel is maintained by Buf ` +
      `but is pre-1.0 (0.x), so its API may change at any minor release. Node engines: marcbachmann ` +
      `${engines(readPkg(marcbachmann.pkg))}, bufbuild ${engines(readPkg(bufbuild.pkg))} ` +
      `(idplane declares ${engines(projectPkg())}).`,
    `- Spec coverage / fit: both cover the CEL language we need (macros, \`has()\`, ternary, string functions). ` +
      `marcbachmann exposes a public type checker (\`env.check\`/\`parse().check()\`), so undeclared variables and type errors are ` +
      `reported at compile time with a source range, and custom functions are one-line signature registrations. ` +
      `@bufbuild/cel 0.6.1 does not export its checker: \`foo.bar\` with an undeclared \`foo\` only fails at evaluation ` +
      `("unresolved attribute"), so a typo in a mapping would surface only when a row is evaluated, not when the mapping is ` +
      `compiled. Its spec fidelity is stricter ` +
      `(e.g. ASCII-only \`lowerAscii\`, conformance test data shipped in @bufbuild/cel-spec), and marcbachmann's known deviation ` +
      `(\`lowerAscii()\`/\`upperAscii()\` change non-ASCII letters too, e.g. \`"Ä".lowerAscii()\` is \`"ä"\`) is what mapping ` +
      `authors usually want, but would change results for non-ASCII capitals if we ever switched engine.`,
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  process.stderr.write(`CEL engine benchmark: ${ROUNDS} rounds × ${SECONDS} s per library and expression\n`);
  const results = run();
  console.log(`Machine: ${machine()}\n`);
  console.log(table(results));
  console.log('');
  console.log(`(b) ${CASES[1]!.note}`);
  const text = section(results);
  await writeResultsSection(SECTION_HEADING.replace(/^## /, ''), text.replace(/^## .*\n/, ''));
  console.log(`\nWrote "${SECTION_HEADING}" to ${path.relative(repoRoot, resultsFile)} (sink ${sink > 0 ? 'ok' : sink})`);
}

await main();
