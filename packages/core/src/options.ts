import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { SynchronousMode } from '@litescribe/writer-worker';
import { InvalidOptionError, InvalidSqlError, describeValue } from './errors.js';
import { checkSetupSql } from './sql-check.js';

/** Options of {@link openWriteQueue}. Either `path` (SQLite) or `url` (PostgreSQL) is required. */
export interface WriteQueueOptions {
  /** Database file. Created (mode 0600) if missing. `:memory:` is refused: a queue shares a file. */
  path?: string;
  /**
   * A `postgres://` (or `postgresql://`) URL instead of `path`: the same queue on a PostgreSQL
   * server (node-postgres connection string). SQLite-only options (`synchronous`, WAL and
   * checkpoint settings, `shareWriter`, `allowUnsafeSqliteVersion`) are then
   * refused with `InvalidOptionError`. See the README, "When one machine is not enough".
   */
  url?: string;
  /** PostgreSQL only: isolation level of each batch transaction. Default `'read committed'`. */
  isolation?: 'read committed' | 'repeatable read' | 'serializable';
  /** Schema SQL run once at open, all of it in one transaction. Default: none. */
  setup?: string | readonly string[];
  /** Module (path or `file:` URL) whose named function exports are procedures for `call()`. Default: none. */
  procedures?: string | URL;
  /** `PRAGMA synchronous`. `'normal'` survives a process crash; `'full'` also survives power loss. Default `'normal'`. */
  synchronous?: SynchronousMode;
  /**
   * Most operations in one transaction. Default 2048: in `npm run bench -- --only strategies` (two
   * runs, 2-core machine kind) 2048 reached 0.97–1.27x of raw better-sqlite3's limit at `normal`
   * and 0.89–0.94x at `full`, where 512 reached 0.88–0.89x and 0.67–0.71x. A batch's promises
   * settle a measured budget per turn of the event loop, so a large batch does not hold the loop.
   */
  maxBatchOps?: number;
  /** Byte budget of one transaction (SQL text plus parameter sizes, estimated). Default 4 MiB. */
  maxBatchBytes?: number;
  /** Most operations accepted and not yet settled. Default 65 536. */
  maxQueue?: number;
  /** What a call does when `maxQueue` is reached: wait for room, or reject with `QueueFullError`. Default `'wait'`. */
  onFull?: 'wait' | 'reject';
  /** How long the writer keeps retrying a lock held by another connection before `BusyTimeoutError`. Default 20 000. */
  busyDeadlineMs?: number;
  /** Shortest pause between lock retries, in ms. Default 1. */
  busyRetryMinMs?: number;
  /** Longest pause between lock retries, in ms (the jitter window doubles up to it). Default 4 (see docs/contention.md). */
  busyRetryMaxMs?: number;
  /** Run a PASSIVE checkpoint after this many commits. Default 50. */
  checkpointEveryCommits?: number;
  /** …but, while the WAL is under `walTargetBytes`, not sooner than this many ms after the last. Default 100. */
  checkpointMinIntervalMs?: number;
  /** WAL file size above which the periodic checkpoint follows PASSIVE with one TRUNCATE attempt (and runs 10x as often); also `journal_size_limit`. Default 4 MiB. */
  walTargetBytes?: number;
  /** WAL file size above which a checkpoint runs at once and waits (up to `checkpointWaitMs`) to TRUNCATE. Default 64 MiB. */
  walSoftLimitBytes?: number;
  /** How long an escalated (TRUNCATE) checkpoint waits for readers to move on. Default 200. */
  checkpointWaitMs?: number;
  /** Prepared statements kept by the writer (on PostgreSQL: distinct SQL texts prepared as named statements). Default 256. */
  statementCacheSize?: number;
  /**
   * Integers as bigint, both ways: `lastInsertRowid` of a run and INTEGER columns read by
   * `all()`/`get()` come back as bigint (rowids past 2^53 stay exact); bigint parameters are bound
   * as they are (always). SQLite only. Default false.
   */
  safeIntegers?: boolean;
  /** Reader threads for `all()`/`get()`, each with a read-only connection; 0 turns reads off. Default 1. */
  readers?: number;
  /** Open even on an SQLite with the WAL-reset corruption bug (only safe with one writing process). Default false. */
  allowUnsafeSqliteVersion?: boolean;
  /**
   * Open a database on a network or cross-VM file system (NFS, SMB/CIFS, 9p, virtiofs, …), which
   * is otherwise refused with `NetworkFileSystemError`: SQLite's WAL only works when every process
   * using the file runs on one host. Default false.
   */
  allowNetworkFileSystem?: boolean;
  /**
   * `'auto'`: the processes of this user on this machine that open the same file share one writer:
   * the first leads, the others send it their operations over a local socket (Linux; elsewhere
   * `'auto'` acts as `'off'`). `'off'`: this process writes with its own writer thread. Default `'auto'`.
   */
  shareWriter?: 'auto' | 'off';
}

/** Defaults of every optional field of {@link WriteQueueOptions}. */
export const DEFAULT_OPTIONS: Readonly<Required<Omit<WriteQueueOptions, 'path' | 'url' | 'procedures'>> & { procedures: null }> = Object.freeze({
  setup: [] as readonly string[],
  procedures: null,
  synchronous: 'normal',
  maxBatchOps: 2048,
  maxBatchBytes: 4 * 1024 * 1024,
  maxQueue: 65_536,
  onFull: 'wait',
  busyDeadlineMs: 20_000,
  busyRetryMinMs: 1,
  busyRetryMaxMs: 4,
  checkpointEveryCommits: 50,
  checkpointMinIntervalMs: 100,
  walTargetBytes: 4 * 1024 * 1024,
  walSoftLimitBytes: 64 * 1024 * 1024,
  checkpointWaitMs: 200,
  statementCacheSize: 256,
  readers: 1,
  allowUnsafeSqliteVersion: false,
  allowNetworkFileSystem: false,
  shareWriter: 'auto',
  isolation: 'read committed',
  safeIntegers: false,
});

/** Options that mean something only to SQLite: given with `url`, they are refused, not ignored. */
const SQLITE_ONLY = [
  'synchronous',
  'walTargetBytes',
  'walSoftLimitBytes',
  'checkpointEveryCommits',
  'checkpointMinIntervalMs',
  'checkpointWaitMs',
  'allowUnsafeSqliteVersion',
  'allowNetworkFileSystem',
  'shareWriter',
  'safeIntegers',
] as const;

/** Options after validation: every field present, paths absolute, frozen. */
export type ResolvedOptions = Readonly<
  Required<Omit<WriteQueueOptions, 'setup' | 'procedures' | 'url'>> & { setup: readonly string[]; procedures: string | null; url: string | null }
>;

const KNOWN = new Set(['path', 'url', ...Object.keys(DEFAULT_OPTIONS)]);

function fail(name: string, expected: string, value: unknown): never {
  throw new InvalidOptionError(`Expected \`${name}\` to be ${expected}, got ${describeValue(value)}`);
}

function integer(o: Record<string, unknown>, name: keyof typeof DEFAULT_OPTIONS, min: number, fallback: unknown = DEFAULT_OPTIONS[name]): number {
  const value = o[name] ?? fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) fail(name, `an integer >= ${min}`, value);
  return value;
}

function oneOf<T extends string>(o: Record<string, unknown>, name: keyof typeof DEFAULT_OPTIONS, allowed: readonly T[]): T {
  const value = o[name] ?? DEFAULT_OPTIONS[name];
  if (!allowed.includes(value as T)) fail(name, `one of ${allowed.map((a) => `'${a}'`).join(', ')}`, value);
  return value as T;
}

/** Validates options once, at open; throws `InvalidOptionError` naming the first bad one. */
export function resolveOptions(input: unknown): ResolvedOptions {
  if (typeof input !== 'object' || input === null) fail('options', 'an object', input);
  const o = input as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!KNOWN.has(key)) throw new InvalidOptionError(`Unknown option \`${key}\`; known options: ${[...KNOWN].join(', ')}`);
  }
  const url = o.url;
  let path = o.path;
  if (url !== undefined) {
    if (path !== undefined) throw new InvalidOptionError(`Expected either \`path\` (SQLite) or \`url\` (PostgreSQL), got both (path ${describeValue(path)})`);
    if (typeof url !== 'string' || !/^postgres(ql)?:\/\/./.test(url)) fail('url', 'a postgres:// or postgresql:// URL', url);
    for (const name of SQLITE_ONLY) {
      if (o[name] !== undefined) throw new InvalidOptionError(`\`${name}\` does not apply to PostgreSQL (got ${describeValue(o[name])}); see the README, "When one machine is not enough"`);
    }
    path = '';
  } else {
    if (typeof path !== 'string' || path.trim() === '') fail('path', 'a non-empty file path (or `url` for PostgreSQL)', path);
    if (path === ':memory:' || path.startsWith('file:')) fail('path', 'a file path (not :memory: or a URI)', path);
    if (o.isolation !== undefined) throw new InvalidOptionError(`\`isolation\` applies to PostgreSQL only (got ${describeValue(o.isolation)}); SQLite transactions are serializable`);
  }

  const setupRaw = o.setup ?? [];
  const setup = typeof setupRaw === 'string' ? [setupRaw] : setupRaw;
  if (!Array.isArray(setup) || setup.some((s) => typeof s !== 'string')) fail('setup', 'a string or an array of strings', setupRaw);
  setup.forEach((sql: string, i: number) => {
    const where = typeof setupRaw === 'string' ? 'setup' : `setup[${i}]`;
    // PostgreSQL's setup is its own to parse (dollar-quoted function bodies hold BEGIN and `;`).
    if (o.url === undefined) checkSetupSql(sql, where);
    else if (sql.trim() === '') throw new InvalidSqlError(`Expected \`${where}\` to be non-empty SQL, got ${describeValue(sql)}`);
  });

  let procedures: string | null = null;
  const p = o.procedures;
  if (p instanceof URL) {
    if (p.protocol !== 'file:') fail('procedures', 'a file path or a file: URL', p.href);
    procedures = p.href;
  } else if (typeof p === 'string' && p !== '') {
    procedures = p.startsWith('file:') ? p : pathToFileURL(isAbsolute(p) ? p : resolve(p)).href;
  } else if (p !== undefined) {
    fail('procedures', 'a file path or a file: URL', p);
  }

  const allowUnsafe = o.allowUnsafeSqliteVersion ?? false;
  if (typeof allowUnsafe !== 'boolean') fail('allowUnsafeSqliteVersion', 'a boolean', allowUnsafe);
  const allowNetwork = o.allowNetworkFileSystem ?? false;
  if (typeof allowNetwork !== 'boolean') fail('allowNetworkFileSystem', 'a boolean', allowNetwork);
  const safeIntegers = o.safeIntegers ?? false;
  if (typeof safeIntegers !== 'boolean') fail('safeIntegers', 'a boolean', safeIntegers);

  const walSoftLimitBytes = integer(o, 'walSoftLimitBytes', 4096);
  // The target may not exceed the soft limit; when only the soft limit is given, it caps the target.
  const walTargetBytes = integer(o, 'walTargetBytes', 0, Math.min(DEFAULT_OPTIONS.walTargetBytes, walSoftLimitBytes));
  if (walTargetBytes > walSoftLimitBytes) fail('walTargetBytes', `an integer <= walSoftLimitBytes (${walSoftLimitBytes})`, walTargetBytes);

  const resolved = {
    path: url === undefined ? resolve(path as string) : '',
    url: (url as string | undefined) ?? null,
    isolation: oneOf(o, 'isolation', ['read committed', 'repeatable read', 'serializable'] as const),
    setup: Object.freeze([...(setup as string[])]),
    procedures,
    synchronous: oneOf(o, 'synchronous', ['off', 'normal', 'full', 'extra'] as const),
    maxBatchOps: integer(o, 'maxBatchOps', 1),
    maxBatchBytes: integer(o, 'maxBatchBytes', 1),
    maxQueue: integer(o, 'maxQueue', 1),
    onFull: oneOf(o, 'onFull', ['wait', 'reject'] as const),
    busyDeadlineMs: integer(o, 'busyDeadlineMs', 0),
    busyRetryMinMs: integer(o, 'busyRetryMinMs', 0),
    busyRetryMaxMs: integer(o, 'busyRetryMaxMs', 0),
    checkpointEveryCommits: integer(o, 'checkpointEveryCommits', 1),
    checkpointMinIntervalMs: integer(o, 'checkpointMinIntervalMs', 0),
    walSoftLimitBytes,
    walTargetBytes,
    checkpointWaitMs: integer(o, 'checkpointWaitMs', 0),
    statementCacheSize: integer(o, 'statementCacheSize', 0),
    readers: integer(o, 'readers', 0),
    allowUnsafeSqliteVersion: allowUnsafe,
    allowNetworkFileSystem: allowNetwork,
    safeIntegers,
    shareWriter: oneOf(o, 'shareWriter', ['auto', 'off'] as const),
  };
  if (resolved.busyRetryMaxMs < resolved.busyRetryMinMs) {
    fail('busyRetryMaxMs', `an integer >= busyRetryMinMs (${resolved.busyRetryMinMs})`, resolved.busyRetryMaxMs);
  }
  return Object.freeze(resolved);
}
