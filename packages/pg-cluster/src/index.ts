import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A PostgreSQL server of its own for a test or a bench run: its own data folder, on 127.0.0.1. */
export interface PgCluster {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (trust authentication, loopback only). */
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  /** `pg_ctl stop` (`fast` by default: sessions are ended, the server shuts down cleanly). */
  stop(mode?: 'smart' | 'fast' | 'immediate'): Promise<void>;
  start(): Promise<void>;
  /** `pg_ctl restart -m <mode>`: every connection is dropped, the server comes back on the same port. */
  restart(mode?: 'smart' | 'fast' | 'immediate'): Promise<void>;
  /** Stops the server (immediate) and deletes the data folder. */
  remove(): Promise<void>;
}

/** Folder of `initdb` and `pg_ctl`: `$PG_BIN`, else the newest `/usr/lib/postgresql/<n>/bin` (Debian's layout). */
export function postgresBinDir(): string {
  const fromEnv = process.env.PG_BIN;
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))) : [];
  versions.sort((a, b) => Number(b) - Number(a));
  if (versions[0] === undefined) {
    throw new Error(`no PostgreSQL server binaries (initdb) under ${root}: install Debian's postgresql package, or set PG_BIN`);
  }
  return join(root, versions[0], 'bin');
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts a throwaway cluster: `initdb` into a new temporary folder, `pg_ctl start` on a free port
 * of 127.0.0.1 (its Unix socket in the data folder, so nothing system-wide is touched). The server
 * refuses to run as root, so as root both run as the `postgres` user. `fsync` stays on unless
 * `settings` says otherwise: commits cost what they cost in production.
 */
export async function startCluster(settings: Readonly<Record<string, string>> = {}): Promise<PgCluster> {
  const bin = postgresBinDir();
  const asRoot = process.getuid?.() === 0;
  let uid = -1;
  let gid = -1;
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres']).catch(() => {
      throw new Error('running as root and there is no `postgres` user to run the server as (install Debian\'s postgresql package)');
    });
    uid = Number(stdout.trim());
    gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'litescribe-pg-'));
  if (asRoot) chownSync(dataDir, uid, gid);
  const tool = (name: string, args: string[]): Promise<unknown> =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', join(bin, name), ...args]) : run(join(bin, name), args);
  try {
    await tool('initdb', ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
  } catch (err) {
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  const port = await freePort();
  const extra = Object.entries({ max_connections: '200', ...settings }).flatMap(([k, v]) => ['-c', `${k}=${v}`]);
  const serverOptions = ['-p', String(port), '-k', dataDir, '-c', 'listen_addresses=127.0.0.1', ...extra].join(' ');
  const logFile = join(dataDir, 'server.log');
  const start = async (): Promise<void> => {
    await tool('pg_ctl', ['-D', dataDir, '-l', logFile, '-o', serverOptions, '-w', '-t', '60', 'start']);
  };
  const stop = async (mode: 'smart' | 'fast' | 'immediate' = 'fast'): Promise<void> => {
    await tool('pg_ctl', ['-D', dataDir, '-m', mode, '-w', '-t', '60', 'stop']);
  };
  await start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    dataDir,
    start,
    stop,
    async restart(mode = 'fast') {
      await tool('pg_ctl', ['-D', dataDir, '-l', logFile, '-o', serverOptions, '-m', mode, '-w', '-t', '60', 'restart']);
    },
    async remove() {
      await stop('immediate').catch(() => {}); // already stopped is fine
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export { faultyProxy } from './faulty-proxy.js';
export type { FaultyProxy, ProxyMode } from './faulty-proxy.js';

/** The server's processes: the postmaster (from its pid file) and every process it started (to stop them all with SIGSTOP, as a hung host would). */
export function serverPids(dataDir: string): number[] {
  const postmaster = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === postmaster) children.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return [postmaster, ...children];
}
