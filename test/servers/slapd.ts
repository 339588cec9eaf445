/**
 * A throwaway OpenLDAP server for tests: a real slapd (Debian's package) in a temp folder, on free ports
 * of 127.0.0.1, never the system's.
 *
 * Contract
 *   findSlapd() is the slapd binary's path, or null when it is not installed.
 *   startSlapd({ tls }) writes a slapd.conf into a fresh temp folder (core, cosine, inetorgperson and nis
 *     schemas; back_mdb from /usr/lib/ldap with its database in the folder; suffix dc=example,dc=com;
 *     rootdn cn=admin,dc=example,dc=com with ADMIN_PASSWORD; sizelimit unlimited), starts
 *     `slapd -f CONF -h URLS -d 0` as a child process on ports found free by binding port 0, waits until it
 *     accepts a bind, and adds the suffix entry. With tls: true it also makes a CA and a server
 *     certificate for 127.0.0.1/localhost with openssl and listens on ldaps:// too (`ldapsUrl`, `caFile`);
 *     StartTLS then works on the ldap:// port as well.
 *   server.client() is a new ldapts client bound as the rootdn (the caller unbinds it).
 *   server.addPeople(parent, count, from) adds inetOrgPerson entries uid=u<NNNNN>, cn "Person <n>",
 *     sn, givenName, mail, title, in parallel.
 *   server.stop() ends slapd (SIGTERM, then SIGKILL after 5 s) and removes the temp folder.
 *   Its log (stderr) is in `${dir}/slapd.log`: startSlapd's error quotes it when the server does not come up.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, openSync, closeSync, readFileSync } from 'node:fs';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'ldapts';

export const SUFFIX = 'dc=example,dc=com';
export const ADMIN_DN = `cn=admin,${SUFFIX}`;
export const ADMIN_PASSWORD = 'test-admin-secret';

export interface SlapdServer {
  url: string;
  /** ldaps:// URL (tls: true only). */
  ldapsUrl?: string;
  /** The CA certificate (PEM) that signed the server's certificate (tls: true only). */
  caFile?: string;
  dir: string;
  client(): Promise<Client>;
  addPeople(parent: string, count: number, from?: number): Promise<void>;
  /** Kills the server (SIGKILL, as a crash or an unplugged host), keeping its data. */
  kill(): Promise<void>;
  /** Starts a killed server again on the same URL with the same data, and waits until it binds. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export function findSlapd(): string | null {
  for (const path of ['/usr/sbin/slapd', '/usr/local/sbin/slapd', '/usr/libexec/slapd']) if (existsSync(path)) return path;
  try {
    const found = execFileSync('sh', ['-c', 'command -v slapd'], { encoding: 'utf8' }).trim();
    return found || null;
  } catch {
    return null;
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function makeCertificates(dir: string): { ca: string; cert: string; key: string } {
  const ca = join(dir, 'ca.pem');
  const caKey = join(dir, 'ca.key');
  const key = join(dir, 'server.key');
  const csr = join(dir, 'server.csr');
  const cert = join(dir, 'server.pem');
  const ext = join(dir, 'server.ext');
  const openssl = (args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', caKey, '-out', ca, '-days', '2', '-subj', '/CN=idplane test CA']);
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', csr, '-subj', '/CN=localhost']);
  execFileSync('sh', ['-c', `printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\nbasicConstraints=CA:FALSE\\nkeyUsage=digitalSignature,keyEncipherment\\nextendedKeyUsage=serverAuth\\n' > '${ext}'`]);
  openssl(['x509', '-req', '-in', csr, '-CA', ca, '-CAkey', caKey, '-CAcreateserial', '-out', cert, '-days', '2', '-extfile', ext]);
  return { ca, cert, key };
}

export async function startSlapd(options: { tls?: boolean } = {}): Promise<SlapdServer> {
  const slapd = findSlapd();
  if (!slapd) throw new Error('slapd is not installed (apt-get install slapd ldap-utils)');
  const dir = await mkdtemp(join(tmpdir(), 'idplane-slapd-'));
  const db = join(dir, 'db');
  await mkdir(db);
  const port = await freePort();
  const tlsPort = options.tls ? await freePort() : null;
  const certs = options.tls ? makeCertificates(dir) : null;
  const conf = join(dir, 'slapd.conf');
  await writeFile(conf, [
    ...['core', 'cosine', 'inetorgperson', 'nis'].map((s) => `include /etc/ldap/schema/${s}.schema`),
    'modulepath /usr/lib/ldap',
    'moduleload back_mdb',
    `pidfile ${join(dir, 'slapd.pid')}`,
    `argsfile ${join(dir, 'slapd.args')}`,
    'sizelimit unlimited',
    ...(certs ? [`TLSCACertificateFile ${certs.ca}`, `TLSCertificateFile ${certs.cert}`, `TLSCertificateKeyFile ${certs.key}`] : []),
    'database mdb',
    'maxsize 1073741824',
    'dbnosync',
    `directory ${db}`,
    `suffix "${SUFFIX}"`,
    `rootdn "${ADMIN_DN}"`,
    `rootpw ${ADMIN_PASSWORD}`,
    'index objectClass eq',
    'index uid,cn,mail eq',
    '',
  ].join('\n'));
  const url = `ldap://127.0.0.1:${port}`;
  const ldapsUrl = tlsPort ? `ldaps://127.0.0.1:${tlsPort}` : undefined;
  const log = join(dir, 'slapd.log');
  let child!: ChildProcess;
  let exited = false;
  const launch = () => {
    const logFd = openSync(log, 'a');
    try {
      child = spawn(slapd, ['-f', conf, '-h', [url, ldapsUrl].filter(Boolean).join(' '), '-d', '0'], { stdio: ['ignore', logFd, logFd] });
    } finally {
      closeSync(logFd);
    }
    exited = false;
    child.once('exit', () => (exited = true));
  };
  launch();

  const bound = async (): Promise<Client> => {
    const client = new Client({ url, timeout: 5000, connectTimeout: 2000 });
    await client.bind(ADMIN_DN, ADMIN_PASSWORD);
    return client;
  };
  const stop = async () => {
    if (!exited && child.exitCode === null) {
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      const client = await bound();
      await client.add(SUFFIX, { objectClass: ['dcObject', 'organization'], dc: 'example', o: 'Example' });
      await client.unbind();
      break;
    } catch (error) {
      if (exited || Date.now() > deadline) {
        const output = existsSync(log) ? readFileSync(log, 'utf8').slice(-2000) : '';
        await stop();
        throw new Error(`slapd did not come up on ${url}: ${(error as Error).message}\n${output}`, { cause: error });
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  const kill = async () => {
    if (exited || child.exitCode !== null) return;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await gone;
  };
  const restart = async () => {
    launch();
    const until = Date.now() + 15_000;
    for (;;) {
      try {
        await (await bound()).unbind();
        return;
      } catch (error) {
        if (exited || Date.now() > until) throw new Error(`slapd did not come back on ${url}: ${(error as Error).message}`, { cause: error });
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  };

  return {
    url, dir, client: bound, stop, kill, restart,
    ...(ldapsUrl ? { ldapsUrl, caFile: certs!.ca } : {}),
    async addPeople(parent, count, from = 1) {
      const client = await bound();
      try {
        const numbers = Array.from({ length: count }, (_, i) => from + i);
        for (let i = 0; i < numbers.length; i += 100) {
          await Promise.all(numbers.slice(i, i + 100).map((n) => {
            const uid = `u${String(n).padStart(5, '0')}`;
            return client.add(`uid=${uid},${parent}`, {
              objectClass: ['inetOrgPerson'], uid, cn: `Person ${n}`, sn: `Person${n}`, givenName: 'Test',
              mail: `${uid}@example.com`, title: n % 2 === 0 ? 'Engineer' : 'Analyst',
            });
          }));
        }
      } finally {
        await client.unbind();
      }
    },
  };
}
