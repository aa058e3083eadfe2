import { EventEmitter } from 'node:events';
import { serialize } from 'node:v8';
import type { BindParams, CheckpointMode, CheckpointReport, RunResult, WriterNotice } from '@litescribe/writer-worker';
import { setImmediate as yieldTurn } from 'node:timers/promises';
import type { BatchScheduler, DeferredOp } from './batch-scheduler.js';
import { checkpointChannel, retryChannel } from './diagnostics.js';
import type { CheckpointDiagnostics, RetryDiagnostics } from './diagnostics.js';
import { InvalidOptionError, InvalidParamsError, NotSupportedError, QueueClosedError, UnknownProcedureError, describeValue } from './errors.js';
import type { ResolvedOptions } from './options.js';
import { checkParams, labelOf } from './params-check.js';
import type { ParamsLabel } from './params-check.js';
import type { QueueStats, StatsRecorder } from './queue-stats.js';
import type { ReaderPool } from './reader-pool.js';
import { checkPostgresSql, checkStatementSql } from './sql-check.js';
import { forgetAtExit } from './share/hand-over-at-exit.js';
import { backupFile } from './backup-file.js';
import type { BackupOptions, BackupResult } from './backup-file.js';
import { SharedWriter } from './share/shared-writer.js';
import type { RoleChange } from './share/shared-writer.js';
import type { TaskRunner } from './task-runner.js';

/** The last argument every queue method takes. */
export interface CallOptions {
  /** Cancels the operation while it still waits in the queue; it then rejects with `signal.reason`. */
  signal?: AbortSignal;
}

/** Options of {@link WriteQueue.all} and {@link WriteQueue.get}. */
export interface ReadOptions extends CallOptions {
  /** `'array'`: each row as an array of its column values in column order (for query builders). Default `'object'`. */
  rowMode?: 'object' | 'array';
}

/** Options of {@link WriteQueue.iterate}. */
export interface IterateOptions extends ReadOptions {
  /** Rows per page: one read (one short snapshot) each. Default 500. */
  pageSize?: number;
  /**
   * A column of the result that is unique and not null (a primary key): pages then continue after
   * the last key seen (`WHERE key > ? ORDER BY key`) instead of by `OFFSET`, which is exact under
   * concurrent writes and does not rescan. Without it, pages are `LIMIT … OFFSET …` of the query.
   */
  key?: string;
}

/** One statement of {@link WriteQueue.batch}. */
export interface Statement {
  sql: string;
  params?: BindParams;
}

/** Payload of the `'retry'` event: the writer found the database locked and will try again. */
export type RetryEvent = WriterNotice;

/**
 * Events: `'retry'` (lock contention), `'checkpoint'` (figures of each checkpoint), `'role'` (with
 * a shared writer: this process now leads, follows, or writes alone, and why), `'error'` (writer
 * trouble not tied to one call).
 */
export interface WriteQueueEvents {
  retry: [event: RetryEvent];
  checkpoint: [report: CheckpointReport];
  role: [change: RoleChange];
  error: [err: Error];
}

const CHECKPOINT_MODES: readonly CheckpointMode[] = ['passive', 'full', 'restart', 'truncate'];

/** Rows of a `runMany` checked and serialized per turn of the caller's event loop (~0.5 ms each for 200-byte rows). */
export const MANY_SLICE_ROWS = 1_000;

type QueueState = 'open' | 'closing' | 'closed';

/**
 * A write queue on one SQLite file. Create it with {@link openWriteQueue}.
 *
 * Every method validates its arguments on the caller's thread and hands the operation to the
 * scheduler; no SQLite work happens on this thread. Methods never throw: bad input rejects the
 * returned promise with a typed error and the queue stays usable.
 */
export class WriteQueue extends EventEmitter<WriteQueueEvents> {
  readonly #opts: ResolvedOptions;
  readonly #thread: TaskRunner;
  readonly #scheduler: BatchScheduler;
  readonly #stats: StatsRecorder;
  readonly #procedures: ReadonlySet<string>;
  readonly #sqliteVersion: string;
  readonly #postgresVersion: string | null;
  /** Checks one statement's SQL for this queue's engine. */
  readonly #checkSql: (sql: unknown, where?: string) => void;
  readonly #readers: ReaderPool | null;
  #state: QueueState = 'open';
  #closing: Promise<void> | null = null;
  /** Backups running: close() waits for them, destroy() cancels them. */
  readonly #backups = new Set<Promise<unknown>>();
  readonly #destroyed = new AbortController();

  /** @internal Use {@link openWriteQueue}. */
  constructor(
    opts: ResolvedOptions,
    thread: TaskRunner,
    scheduler: BatchScheduler,
    stats: StatsRecorder,
    opened: { readonly procedures: readonly string[]; readonly sqliteVersion: string; readonly postgresVersion?: string },
    readers: ReaderPool | null,
  ) {
    super();
    this.#opts = opts;
    this.#thread = thread;
    this.#scheduler = scheduler;
    this.#stats = stats;
    this.#procedures = new Set(opened.procedures);
    this.#sqliteVersion = opened.sqliteVersion;
    this.#postgresVersion = opened.postgresVersion ?? null;
    this.#checkSql = opts.url === null ? checkStatementSql : checkPostgresSql;
    this.#readers = readers;
  }

  /** Absolute path of the database file (`''` on PostgreSQL). */
  get path(): string {
    return this.#opts.path;
  }

  /** `'sqlite'` (opened with `path`) or `'postgres'` (opened with `url`). */
  get engine(): 'sqlite' | 'postgres' {
    return this.#opts.url === null ? 'sqlite' : 'postgres';
  }

  /** `sqlite_version()` of the library the writer uses (`''` on PostgreSQL). */
  get sqliteVersion(): string {
    return this.#sqliteVersion;
  }

  /** The PostgreSQL server's `server_version`, or null on SQLite. */
  get postgresVersion(): string | null {
    return this.#postgresVersion;
  }

  /** Names of the procedures `call()` accepts. */
  get procedures(): readonly string[] {
    return [...this.#procedures];
  }

  /**
   * Runs one statement in the next transaction. Resolves with `{ changes, lastInsertRowid }` once
   * that transaction has committed. Parameters are copied at call time (Buffers are not: do not
   * change a Buffer's bytes until the promise settles).
   */
  run(sql: string, params?: BindParams, options?: CallOptions): Promise<RunResult> {
    try {
      this.#assertOpen();
      this.#checkSql(sql);
      const bytes = sql.length + this.#checkParams(params);
      return this.#scheduler.enqueue({ kind: 'run', sql, params: copyParams(params) }, bytes, signalOf(options)) as Promise<RunResult>;
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Runs several statements atomically: all of them commit, or (if one fails) none, and only this
   * call rejects. Never split across transactions. Resolves with one `RunResult` per statement.
   */
  batch(statements: readonly Statement[], options?: CallOptions): Promise<RunResult[]> {
    try {
      this.#assertOpen();
      if (!Array.isArray(statements) || statements.length === 0) {
        throw new InvalidParamsError(`Expected \`statements\` to be a non-empty array of { sql, params }, got ${describeValue(statements)}`);
      }
      let bytes = 0;
      const copies = statements.map((s: unknown, i) => {
        if (typeof s !== 'object' || s === null) {
          throw new InvalidParamsError(`Expected \`statements[${i}]\` to be { sql, params }, got ${describeValue(s)}`);
        }
        const { sql, params } = s as Statement;
        this.#checkSql(sql, `statements[${i}].sql`);
        bytes += sql.length + this.#checkParams(params, () => `statements[${i}].params`);
        return { sql, params: copyParams(params) };
      });
      return this.#scheduler.enqueue({ kind: 'batch', statements: copies }, bytes, signalOf(options)) as Promise<RunResult[]>;
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Runs one statement once per row of `rows`, as one atomic operation: every row commits, in
   * order, in one transaction, or (one row failing) none does and the call rejects with that row's
   * error, its index in the message. Resolves with `{ changes, lastInsertRowid }`: the total
   * changes and the last row's rowid. For bursts: the call costs the caller's thread one slice of
   * work per event-loop turn (its rows are checked and copied {@link MANY_SLICE_ROWS} at a time),
   * not one promise per row; its place in the order is taken at once, and operations called after
   * it wait for it. `rows` are read over those turns: leave the array and its rows alone until the
   * promise settles.
   */
  runMany(sql: string, rows: readonly BindParams[], options?: CallOptions): Promise<RunResult> {
    try {
      this.#assertOpen();
      this.#checkSql(sql);
      if (!Array.isArray(rows) || rows.length === 0) throw new InvalidParamsError(`Expected \`rows\` to be a non-empty array of parameter rows, got ${describeValue(rows)}`);
      const op = this.#scheduler.enqueueDeferred(signalOf(options));
      if (!op.settled()) void this.#prepareMany(sql, rows, op);
      return op.promise as Promise<RunResult>;
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Checks and serializes `runMany`'s rows, a slice per turn of the event loop. */
  async #prepareMany(sql: string, rows: readonly BindParams[], op: DeferredOp): Promise<void> {
    const slices: Uint8Array[] = [];
    let bytes = sql.length;
    let row = 0;
    const label = (): string => `rows[${row}]`; // built only for an error message
    for (let at = 0; at < rows.length; at += MANY_SLICE_ROWS) {
      // The first slice now (a small call is ready in this tick); the others a turn each.
      if (at > 0) await yieldTurn();
      if (op.settled()) return; // cancelled, or the queue was destroyed
      const slice = rows.slice(at, at + MANY_SLICE_ROWS);
      try {
        for (let i = 0; i < slice.length; i++) {
          row = at + i;
          bytes += this.#checkParams(slice[i], label);
        }
        slices.push(serialize(slice));
      } catch (err) {
        op.fail(err instanceof InvalidParamsError ? err : new InvalidParamsError(`\`rows\` from ${at} on cannot be sent to the writer thread: ${(err as Error).message}`));
        return;
      }
    }
    op.ready({ kind: 'many', sql, rows: slices }, bytes);
  }

  /**
   * Runs a procedure (a named export of the `procedures` module) in the writer, inside the next
   * transaction and its own SAVEPOINT: if it throws, nothing it wrote stays and only this call
   * rejects. `args` must be structured-cloneable and is snapshotted at call time.
   */
  call<T = unknown>(name: string, args?: unknown, options?: CallOptions): Promise<T> {
    try {
      this.#assertOpen();
      if (!this.#procedures.has(name)) {
        const known = this.#procedures.size === 0 ? 'no procedures were loaded' : `known: ${[...this.#procedures].join(', ')}`;
        throw new UnknownProcedureError(`unknown procedure ${describeValue(name)} (${known})`);
      }
      let bytes: Uint8Array;
      try {
        bytes = serialize(args);
      } catch (err) {
        throw new InvalidParamsError(`\`args\` of ${name} cannot be sent to the writer thread: ${(err as Error).message}`);
      }
      return this.#scheduler.enqueue({ kind: 'call', name, args: bytes }, name.length + bytes.byteLength, signalOf(options)) as Promise<T>;
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Runs a read on a reader thread and resolves with every row. A read issued after a write's
   * promise resolved sees that write. The statement must return rows and change nothing
   * (`InvalidSqlError` otherwise); each read is its own short snapshot.
   */
  all<T = Record<string, unknown>>(sql: string, params?: BindParams, options?: ReadOptions): Promise<T[]> {
    return this.#read('all', sql, params, options) as Promise<T[]>;
  }

  /** Like {@link all}, resolving with the first row, or `undefined` when there is none. */
  get<T = Record<string, unknown>>(sql: string, params?: BindParams, options?: ReadOptions): Promise<T | undefined> {
    return this.#read('get', sql, params, options) as Promise<T | undefined>;
  }

  /**
   * Iterates over a large result page by page, each page one read on a reader thread: no snapshot
   * is held between pages, so a slow consumer never pins the WAL (checkpoints run in between).
   *
   * Consistency: each page is a consistent snapshot of its own, not the result as a whole. With
   * `key`, every row that exists from start to end is seen exactly once, in key order; rows
   * committed meanwhile are seen if their key is past the last page read. Without `key`, pages are
   * `LIMIT/OFFSET` of the query (ordered as the query orders them): a row written or deleted before
   * the current offset meanwhile shifts the rest, so a row may be missed or seen twice. Errors reject
   * the `next()` call that met them; `signal` stops the iteration between pages.
   */
  async *iterate<T = Record<string, unknown>>(sql: string, params?: BindParams, options?: IterateOptions): AsyncGenerator<T, void, undefined> {
    const pageSize = options?.pageSize ?? 500;
    if (typeof pageSize !== 'number' || !Number.isInteger(pageSize) || pageSize < 1) throw new InvalidOptionError(`Expected \`pageSize\` to be an integer >= 1, got ${describeValue(pageSize)}`);
    const key = options?.key;
    if (key !== undefined && (typeof key !== 'string' || key === '')) throw new InvalidOptionError(`Expected \`key\` to be a column name, got ${describeValue(key)}`);
    this.#checkSql(sql);
    this.#checkParams(params);
    if (options?.rowMode === 'array' && key !== undefined) throw new InvalidOptionError('`key` needs rows as objects (rowMode `\'object\'`): the key is read from each page\'s last row by name');
    const pg = this.#opts.url !== null;
    const named = params !== undefined && !Array.isArray(params);
    const base: BindParams = params ?? [];
    // One placeholder per extra value, in the query's own style: `?`, `:name` or `$n`.
    const slot = (name: string, index: number): string => (pg ? `$${index}` : named ? `:${name}` : '?');
    const withValues = (extra: Array<[string, unknown]>): BindParams =>
      (named ? { ...(base as Record<string, never>), ...Object.fromEntries(extra) } : [...(base as unknown[]), ...extra.map(([, v]) => v)]) as BindParams;
    const n = Array.isArray(base) ? base.length : 0;
    const quoted = key === undefined ? '' : `"${key.replace(/"/g, '""')}"`;
    let offset = 0;
    let after: unknown;
    for (;;) {
      let pageSql: string;
      let pageParams: BindParams;
      if (key === undefined) {
        pageSql = `SELECT * FROM (${sql}) AS litescribe_page LIMIT ${slot('litescribe_limit', n + 1)} OFFSET ${slot('litescribe_offset', n + 2)}`;
        pageParams = withValues([['litescribe_limit', pageSize], ['litescribe_offset', offset]]);
      } else if (after === undefined) {
        pageSql = `SELECT * FROM (${sql}) AS litescribe_page ORDER BY ${quoted} LIMIT ${slot('litescribe_limit', n + 1)}`;
        pageParams = withValues([['litescribe_limit', pageSize]]);
      } else {
        pageSql = `SELECT * FROM (${sql}) AS litescribe_page WHERE ${quoted} > ${slot('litescribe_after', n + 1)} ORDER BY ${quoted} LIMIT ${slot('litescribe_limit', n + 2)}`;
        pageParams = withValues([['litescribe_after', after], ['litescribe_limit', pageSize]]);
      }
      // all() takes `signal` and `rowMode` from the same options; it ignores the paging fields.
      const rows = await this.all<T>(pageSql, pageParams, options);
      yield* rows;
      if (rows.length < pageSize) return;
      offset += rows.length;
      if (key !== undefined) {
        after = (rows[rows.length - 1] as Record<string, unknown>)[key];
        if (after === undefined || after === null) throw new InvalidOptionError(`\`key\` ${describeValue(key)} is not a non-null column of the result`);
      }
      options?.signal?.throwIfAborted();
    }
  }

  /** Resolves once every operation enqueued before this call has settled (committed or failed). */
  flush(): Promise<void> {
    return this.#scheduler.flush();
  }

  /** Runs a WAL checkpoint in the writer between transactions. A busy checkpoint is reported (`busy: true`), not thrown. */
  checkpoint(mode: CheckpointMode = 'passive', options?: CallOptions): Promise<CheckpointReport> {
    try {
      this.#assertOpen();
      if (this.#opts.url !== null) throw new NotSupportedError('checkpoint() does not apply to PostgreSQL: the server checkpoints its write-ahead log on its own');
      if (!CHECKPOINT_MODES.includes(mode)) throw new InvalidOptionError(`Expected \`mode\` to be one of ${CHECKPOINT_MODES.join(', ')}, got ${describeValue(mode)}`);
      return this.#scheduler.checkpoint(mode, signalOf(options));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Writes a consistent copy of the database to `destination` while writes keep committing: every
   * write acknowledged before this call is in it. The copy runs on a thread of its own from one read
   * snapshot, in steps, and never holds the writer; it is written to a temporary name (mode 0600)
   * and renamed over `destination` when complete. `signal` cancels it (nothing is left behind);
   * `onProgress` is called after each step with pages and bytes copied. See {@link backupFile} for
   * what is refused as a destination. `close()` waits for a backup that is running; `destroy()`
   * cancels it. On PostgreSQL, `NotSupportedError`: use `pg_dump`.
   */
  backup(destination: string, options?: Omit<BackupOptions, 'busyTimeoutMs'>): Promise<BackupResult> {
    try {
      this.#assertOpen();
      if (this.#opts.url !== null) throw new NotSupportedError('backup() does not apply to PostgreSQL: use pg_dump (or pg_basebackup for a whole cluster)');
      const user = signalOf(options); // also refuses options that are not an object
      const signal = user === undefined ? this.#destroyed.signal : AbortSignal.any([user, this.#destroyed.signal]);
      const release = this.#scheduler.holdCheckpoints();
      const running = backupFile(this.#opts.path, destination, { ...options, signal, busyTimeoutMs: this.#opts.busyDeadlineMs }).finally(release);
      this.#backups.add(running);
      void running.then(
        () => this.#backups.delete(running),
        () => this.#backups.delete(running),
      );
      return running;
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Counters and latency figures: a new snapshot each call (~15 µs on the 2-core machine kind, percentiles included), for a scrape or a status line, not for every write. */
  stats(): QueueStats {
    const shared = this.#thread instanceof SharedWriter ? this.#thread : null;
    return this.#stats.snapshot({
      queueDepth: this.#scheduler.depth,
      waitingForRoom: this.#scheduler.waitingForRoom,
      readerThreads: this.#readers?.threads ?? 0,
      role: shared?.role ?? 'solo',
      leaderChanges: shared?.leaderChanges ?? 0,
    });
  }

  /**
   * Stops accepting operations (they reject with `QueueClosedError`), commits everything already
   * accepted, runs a final TRUNCATE checkpoint, closes the connection and ends the thread. Reads
   * and backups already started finish first. Calling it again returns the same promise.
   */
  close(): Promise<void> {
    forgetAtExit(this);
    this.#closing ??= this.#closeNow();
    return this.#closing;
  }

  /**
   * Stops at once: operations still queued reject with `reason` (default `QueueClosedError`);
   * operations already with the writer reject with `WorkerExitedError` (outcome unknown); backups
   * running are cancelled (rejecting with `reason`). The thread is ended without a final
   * checkpoint; SQLite recovers the WAL on the next open.
   */
  async destroy(reason?: Error): Promise<void> {
    const why = reason ?? new QueueClosedError('the write queue was destroyed');
    forgetAtExit(this);
    this.#state = 'closed';
    this.#scheduler.abortAll(why);
    this.#destroyed.abort(why);
    this.#closing ??= Promise.resolve();
    await Promise.all([this.#thread.destroy(), this.#readers?.destroy()]);
  }

  /** @internal Called by the writer thread's notice channel. */
  notice(notice: WriterNotice): void {
    if (notice.kind !== 'retry') return;
    this.emit('retry', notice);
    if (retryChannel.hasSubscribers) retryChannel.publish({ ...notice, queue: this } satisfies RetryDiagnostics);
  }

  /** @internal A checkpoint ran: the `'checkpoint'` event and its diagnostics channel. */
  reportCheckpoint(report: CheckpointReport): void {
    this.emit('checkpoint', report);
    if (checkpointChannel.hasSubscribers) checkpointChannel.publish({ ...report, queue: this } satisfies CheckpointDiagnostics);
  }

  /** @internal A shared writer's role changed: the `'role'` event. */
  reportRole(change: RoleChange): void {
    this.emit('role', change);
  }

  /** @internal Reports writer trouble not tied to one call, only to listeners that asked for it. */
  reportError(err: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }

  async #closeNow(): Promise<void> {
    this.#state = 'closing';
    try {
      // A backup's snapshot would keep the final TRUNCATE checkpoint from emptying the WAL.
      await Promise.allSettled([...this.#backups]);
      await this.#scheduler.whenIdle();
      this.#scheduler.stop();
      const reply = await this.#thread.run({ kind: 'close' });
      if (reply.kind === 'closed') {
        for (const report of reply.reports) this.reportCheckpoint(report);
      } else if (reply.kind === 'failed') {
        this.reportError(new Error(`closing the writer connection failed: ${reply.error.message}`));
      }
    } finally {
      this.#state = 'closed';
      await Promise.all([this.#thread.destroy(), this.#readers?.close()]);
    }
  }

  async #read(kind: 'all' | 'get', sql: string, params: BindParams | undefined, options: ReadOptions | undefined): Promise<unknown> {
    this.#assertOpen();
    if (this.#readers === null) throw new InvalidOptionError('reads are off: this queue was opened with `readers: 0`');
    this.#checkSql(sql);
    this.#checkParams(params);
    const signal = signalOf(options);
    const rowMode = options?.rowMode ?? 'object';
    if (rowMode !== 'object' && rowMode !== 'array') throw new InvalidOptionError(`Expected \`rowMode\` to be 'object' or 'array', got ${describeValue(rowMode)}`);
    try {
      return await this.#readers.read({ kind, sql, params: copyParams(params), ...(rowMode === 'array' ? { rowMode } : {}) }, signal);
    } finally {
      this.#stats.reads += 1;
    }
  }

  /** Bindable parameters (positional only on PostgreSQL); returns their estimated size. */
  #checkParams(params: BindParams | undefined, where: ParamsLabel = 'params'): number {
    if (this.#opts.url !== null && params !== undefined && !Array.isArray(params)) {
      throw new InvalidParamsError(`Expected \`${labelOf(where)}\` to be an array: PostgreSQL takes positional parameters ($1, $2, …), got ${describeValue(params)}`);
    }
    return checkParams(params, where);
  }

  #assertOpen(): void {
    if (this.#state !== 'open') throw new QueueClosedError(`the write queue is ${this.#state}`);
  }
}

function copyParams(params: BindParams | undefined): BindParams | undefined {
  if (params === undefined) return undefined;
  return Array.isArray(params) ? params.slice() : { ...(params as Record<string, never>) };
}

function signalOf(options: CallOptions | undefined): AbortSignal | undefined {
  if (options === undefined) return undefined;
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError(`Expected the options argument to be an object like { signal }, got ${describeValue(options)}`);
  }
  const { signal } = options;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new InvalidOptionError(`Expected \`signal\` to be an AbortSignal, got ${describeValue(signal)}`);
  }
  return signal;
}
