// Deterministic synthetic HR export generator for benchmarks.
//
//   node bench/generate.ts --users N --out DIR [--seed S]
//
// Writes DIR/data/hr.csv with the same columns as examples/quickstart/data/hr.csv.
// Output depends only on (users, seed): same inputs => byte-identical file. Rows are
// produced in chunks and written through a stream honouring backpressure, so memory
// stays flat even for millions of rows.

import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

export const HR_CSV_HEADER =
  'employee_id,first_name,last_name,work_email,department,title,employment_type,status,start_date,manager_id,phone';

export const DEFAULT_SEED = 42;

export interface GenerateHrCsvOptions {
  users: number;
  seed?: number;
  out: NodeJS.WritableStream;
}

/** mulberry32: tiny, fast, deterministic 32-bit PRNG returning floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SPECIAL_LETTERS: Record<string, string> = {
  ø: 'o',
  ł: 'l',
  ß: 'ss',
  æ: 'ae',
  œ: 'oe',
  đ: 'd',
  ð: 'd',
  þ: 'th',
  ı: 'i',
};

/**
 * Email local-part transliteration used by both the quickstart example and this
 * generator: strip diacritics (Zoë Müller -> zoe.muller), map letters that do not
 * decompose (ø, ł, ß, ...), drop apostrophes and spaces, keep hyphens.
 */
export function emailPart(name: string): string {
  return name
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[øłßæœđðþı]/g, (c) => SPECIAL_LETTERS[c] ?? '')
    .replace(/[^a-z0-9-]/g, '');
}

const FIRST_NAMES = [
  'Amara', 'Lars', 'Priya', 'Zoë', 'Kenji', 'José', 'Wojciech', 'Fatima', 'Wei', 'Björn',
  'Aisha', 'Dmitri', 'Isabela', 'Declan', 'Mei', 'Tomás', 'Hannah', 'Kwame', 'Olivia', 'Sunita',
  'François', 'Grace', 'Mateo', 'Ingrid', 'Ana', 'Samuel', 'Yuki', 'Noor', 'Michael', 'Núria',
  'Ravi', 'Emily', 'Thandiwe', 'Luis', 'Agnieszka', 'Chloé', 'Jack', 'Sofia', 'Omar', 'Leilani',
  'Ethan', 'Rebecca', 'Søren', 'Adaeze', 'Carlos', 'Nikolai', 'Sarah', 'Jamal', 'Elif', 'Hiroshi',
  'Siobhán', 'Renée', 'Łucja', 'Åsa', 'Jürgen', 'Inés', 'Çağla', 'Mohammed', 'Ji-woo', 'Anaïs',
  'Diego', 'Ngozi', 'Arjun', 'Freya', 'Matías', 'Leïla', 'Oskar', 'Camille', 'Tariq', 'Hana',
];

const LAST_NAMES = [
  'Okafor', 'Østergaard', 'Raghunathan', 'Müller', 'Watanabe', 'Hernández', 'Łukasiewicz', 'Haddad', 'Chen', 'Åkesson',
  'Bello', 'Volkov', 'Conceição', "O'Brien", 'Tan', 'Ferreira', 'Schmidt', 'Mensah', 'Nguyen', 'Kapoor',
  'Lefèvre', 'Kim', 'Rossi', 'Lindqvist', 'García-López', 'Adeyemi', 'Tanaka', 'Rahman', 'Brennan', 'Puig',
  'Shankar', 'Carter', 'Dlamini', 'Peña', 'Wójcik', 'Dubois', 'Thompson', 'Andersson', 'Farouk', 'Kahale',
  'Walsh', 'Goldberg', 'Nielsen', 'Nwosu', 'Mendoza', 'Petrov', 'Cohen', 'Washington', 'Yılmaz', 'Satō',
  "D'Souza", 'Smith-Jones', 'Novák', 'Kowalczyk', 'Björk', 'Öztürk', 'Fernández', 'Gonçalves', 'Papadopoulos', 'van der Berg',
  'Nakamura', 'Singh', 'Ibrahim', 'Johansson', 'Dvořák', 'Moreau', 'Abernathy', 'Mukherjee', 'Ramírez', 'Strauß',
];

const DEPARTMENTS: readonly { name: string; weight: number; titles: readonly string[] }[] = [
  {
    name: 'Engineering',
    weight: 35,
    titles: [
      'Software Engineer', 'Senior Software Engineer', 'Staff Software Engineer', 'Engineering Manager',
      'Site Reliability Engineer', 'DevOps Engineer', 'Data Engineer', 'QA Engineer', 'Security Engineer',
      'Product Designer', 'Director, Engineering',
    ],
  },
  {
    name: 'Sales',
    weight: 20,
    titles: [
      'Account Executive', 'Senior Account Executive', 'Sales Development Representative', 'Sales Engineer',
      'Sales Manager', 'Director, Sales',
    ],
  },
  {
    name: 'Support',
    weight: 15,
    titles: [
      'Customer Support Specialist', 'Technical Support Specialist', 'Support Engineer', 'Support Team Lead',
      'Manager, Support Operations',
    ],
  },
  {
    name: 'Marketing',
    weight: 10,
    titles: [
      'Product Marketing Manager', 'Content Strategist', 'Growth Marketing Manager', 'Brand Designer',
      'Marketing Operations Specialist',
    ],
  },
  {
    name: 'Finance',
    weight: 8,
    titles: ['Financial Analyst', 'Senior Accountant', 'Accounts Payable Specialist', 'Controller', 'Director, FP&A'],
  },
  {
    name: 'People',
    weight: 7,
    titles: ['Recruiter', 'Senior Recruiter', 'People Operations Partner', 'Talent Acquisition Coordinator', 'HR Business Partner'],
  },
  {
    name: 'Legal',
    weight: 5,
    titles: ['Corporate Counsel', 'Privacy Counsel', 'Paralegal', 'Contracts Manager'],
  },
];

const DEPARTMENT_TOTAL_WEIGHT = DEPARTMENTS.reduce((sum, d) => sum + d.weight, 0);
const AREA_CODES = ['415', '212', '512', '646', '206', '617', '312', '303'];
/** Fan-out of the synthetic reporting tree: row i reports to row floor((i - 2) / FANOUT) + 1. */
const MANAGER_FANOUT = 8;
const ROWS_PER_CHUNK = 2000;
const START_DATE_MIN = Date.UTC(2010, 0, 1);
const START_DATE_DAYS = Math.floor((Date.UTC(2025, 11, 31) - START_DATE_MIN) / 86_400_000) + 1;

const FIRST_EMAIL = FIRST_NAMES.map(emailPart);
const LAST_EMAIL = LAST_NAMES.map(emailPart);

function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

function pick<T>(items: readonly T[], r: number): T {
  return items[Math.floor(r * items.length)] as T;
}

function pickDepartment(r: number): (typeof DEPARTMENTS)[number] {
  let acc = r * DEPARTMENT_TOTAL_WEIGHT;
  for (const d of DEPARTMENTS) {
    acc -= d.weight;
    if (acc < 0) return d;
  }
  return DEPARTMENTS[DEPARTMENTS.length - 1] as (typeof DEPARTMENTS)[number];
}

function assertOptions(users: number, seed: number): void {
  if (!Number.isSafeInteger(users) || users < 1) throw new Error(`users must be a positive integer, got ${users}`);
  if (!Number.isSafeInteger(seed)) throw new Error(`seed must be an integer, got ${seed}`);
}

/**
 * Streams a synthetic HR CSV (header + `users` rows, LF line endings) into `out`,
 * waiting for 'drain' whenever the stream signals backpressure. Ends `out` and
 * resolves once it has emitted 'finish'; rejects if the stream errors.
 *
 * Every row consumes the same number of PRNG draws and the reporting tree depends
 * only on the row index, so a smaller N yields a prefix of a larger N (same seed)
 * as long as the employee_id width (max(6, digits of N)) is the same.
 */
export async function generateHrCsv(opts: GenerateHrCsvOptions): Promise<void> {
  const { users, out } = opts;
  const seed = opts.seed ?? DEFAULT_SEED;
  assertOptions(users, seed);

  const rng = mulberry32(seed);
  const idWidth = Math.max(6, String(users).length);
  const id = (n: number) => String(n).padStart(idWidth, '0');
  // first.last -> times seen; repeats get a numeric suffix (names never contain digits).
  const emailSeen = new Map<string, number>();

  let failure: unknown;
  const onError = (err: unknown) => {
    failure ??= err;
  };
  out.on('error', onError);
  try {
    const write = async (chunk: string) => {
      if (failure !== undefined) throw failure;
      if (!out.write(chunk)) await once(out, 'drain');
    };

    await write(HR_CSV_HEADER + '\n');

    const lines: string[] = [];
    for (let i = 1; i <= users; i++) {
      // Fixed number of draws per row keeps row i independent of N.
      const rFirst = rng();
      const rLast = rng();
      const rDept = rng();
      const rTitle = rng();
      const rType = rng();
      const rStatus = rng();
      const rDate = rng();
      const rPhone = rng();
      const rPhoneNum = rng();

      const fi = Math.floor(rFirst * FIRST_NAMES.length);
      const li = Math.floor(rLast * LAST_NAMES.length);
      const base = `${FIRST_EMAIL[fi]}.${LAST_EMAIL[li]}`;
      const seen = emailSeen.get(base) ?? 0;
      emailSeen.set(base, seen + 1);
      const email = `${seen === 0 ? base : base + String(seen + 1)}@example.com`;

      const isCeo = i === 1;
      const dept = isCeo ? (DEPARTMENTS[0] as (typeof DEPARTMENTS)[number]) : pickDepartment(rDept);
      const title = isCeo ? 'Chief Executive Officer' : pick(dept.titles, rTitle);
      const employmentType = !isCeo && rType < 0.03 ? 'Contractor' : 'Employee';
      const status = isCeo ? 'Active' : rStatus < 0.02 ? 'Terminated' : rStatus < 0.03 ? 'Leave' : 'Active';
      const startDate = new Date(START_DATE_MIN + Math.floor(rDate * START_DATE_DAYS) * 86_400_000)
        .toISOString()
        .slice(0, 10);
      const managerId = isCeo ? '' : id(Math.floor((i - 2) / MANAGER_FANOUT) + 1);
      const phone =
        rPhone < 0.05
          ? ''
          : `+1 ${pick(AREA_CODES, rPhoneNum)} 555 01${String(Math.floor(rPhoneNum * 800) % 100).padStart(2, '0')}`;

      lines.push(
        [
          id(i),
          csvField(FIRST_NAMES[fi] as string),
          csvField(LAST_NAMES[li] as string),
          email,
          dept.name,
          csvField(title),
          employmentType,
          status,
          startDate,
          managerId,
          phone,
        ].join(','),
      );

      if (lines.length === ROWS_PER_CHUNK || i === users) {
        await write(lines.join('\n') + '\n');
        lines.length = 0;
      }
    }

    if (failure !== undefined) throw failure;
    const finished = once(out, 'finish');
    out.end();
    await finished;
  } finally {
    out.off('error', onError);
  }
}

interface CliResult {
  path: string;
  users: number;
  seed: number;
  bytes: number;
  ms: number;
}

export async function runCli(argv: string[]): Promise<CliResult> {
  const { values } = parseArgs({
    args: argv,
    options: {
      users: { type: 'string' },
      out: { type: 'string' },
      seed: { type: 'string' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.users === undefined || values.out === undefined) {
    throw new Error('usage: node bench/generate.ts --users N --out DIR [--seed S]');
  }
  const users = Number(values.users);
  const seed = values.seed === undefined ? DEFAULT_SEED : Number(values.seed);
  assertOptions(users, seed);

  const dataDir = join(resolve(values.out), 'data');
  await mkdir(dataDir, { recursive: true });
  const path = join(dataDir, 'hr.csv');

  const started = performance.now();
  await generateHrCsv({ users, seed, out: createWriteStream(path, { encoding: 'utf8' }) });
  const ms = performance.now() - started;
  const { size } = await stat(path);
  return { path, users, seed, bytes: size, ms };
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href;

if (invokedDirectly) {
  runCli(process.argv.slice(2)).then(
    ({ path, users, seed, bytes, ms }) => {
      const mb = bytes / (1024 * 1024);
      const rate = Math.round(users / (ms / 1000));
      console.log(
        `wrote ${users} rows (seed ${seed}) to ${path}: ${mb.toFixed(1)} MiB in ${(ms / 1000).toFixed(2)} s (${rate} rows/s)`,
      );
    },
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exitCode = 1;
    },
  );
}
