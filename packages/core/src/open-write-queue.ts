import { randomUUID } from 'node:crypto';
import type { WriterConfig, WriterNotice } from '@litescribe/writer-worker';
import { checkLocalFileSystem, checkOwnFiles, checkWritable, createPrivateFile, shareAddress } from '@litescribe/writer-worker/link';
import { BatchScheduler } from './batch-scheduler.js';
import { errorFromData } from './errors.js';
import { checkNodeVersion } from './node-support.js';
import { handOverAtExit } from './share/hand-over-at-exit.js';
import { resolveOptions } from './options.js';
import type { ResolvedOptions, WriteQueueOptions } from './options.js';
import { StatsRecorder } from './queue-stats.js';
import { openPostgres } from './open-postgres.js';
import { ReaderPool, sqliteReaderSpec } from './reader-pool.js';
import { SharedWriter } from './share/shared-writer.js';
import type { Opened, RoleChange } from './share/shared-writer.js';
import type { TaskRunner } from './task-runner.js';
import { WriteQueue } from './write-queue.js';
import { WriterThread, sqliteWriterSpec } from './writer-thread.js';

/**
 * Opens a write queue on a SQLite file (`path`), or on a PostgreSQL server (`url`).
 *
 * Resolves once the file is open in WAL mode with `synchronous` applied, `setup` has run (once, in
 * one transaction) and `procedures` are loaded — by this process's writer thread, or, when another
 * process already leads the file (`shareWriter: 'auto'`), by the leader's. If any step fails it
 * rejects with a typed error and no thread is left running.
 */
export async function openWriteQueue(options: WriteQueueOptions): Promise<WriteQueue> {
  checkNodeVersion();
  const opts = resolveOptions(options);
  // The writer's callbacks reach the queue once it exists; nothing is reported before open resolves.
  let queue: WriteQueue | undefined;
  const hooks: EngineHooks = {
    onNotice: (notice) => queue?.notice(notice),
    onError: (err) => queue?.reportError(err),
    onRole: (change) => queue?.reportRole(change),
  };
  const engine = opts.url === null ? await openSqlite(opts, hooks) : await openPostgresEngine(opts as ResolvedOptions & { url: string }, hooks);
  const stats = new StatsRecorder();
  stats.walBytes = engine.opened.walBytes;
  const scheduler = new BatchScheduler(
    engine.runner,
    opts,
    stats,
    { onCheckpoint: (report) => queue?.reportCheckpoint(report), onError: hooks.onError, subject: () => queue },
    engine.periodicCheckpoints,
  );
  queue = new WriteQueue(opts, engine.runner, scheduler, stats, engine.opened, engine.readers);
  if (engine.handsOver) handOverAtExit(queue);
  const fellBack = engine.fellBack;
  // After the caller's `await` has resumed (it may attach a listener right away), not before.
  if (fellBack !== null) setImmediate(() => queue?.reportRole(fellBack));
  return queue;
}

interface EngineHooks {
  readonly onNotice: (notice: WriterNotice) => void;
  readonly onError: (err: Error) => void;
  readonly onRole: (change: RoleChange) => void;
}

/** What the scheduler runs on, whichever engine: the seam, what it opened, the readers. */
interface Engine {
  readonly runner: TaskRunner;
  readonly opened: Opened;
  readonly readers: ReaderPool | null;
  /** SQLite: the scheduler slips in periodic checkpoints. PostgreSQL checkpoints on its own. */
  readonly periodicCheckpoints: boolean;
  /** A shared writer's leader hands over when its process runs out of work. */
  readonly handsOver: boolean;
  /** A shared writer that opened writing alone, and why. */
  readonly fellBack: RoleChange | null;
}

/** SQLite: this process's writer thread, or a shared writer (lead or follow). */
async function openSqlite(opts: ResolvedOptions, hooks: EngineHooks): Promise<Engine> {
  // Abstract sockets (the meeting point) are Linux's; elsewhere every process writes for itself.
  const sharing = opts.shareWriter === 'auto' && process.platform === 'linux';
  // Before any of them is opened or created: files another user planted or can write, files this
  // process cannot write, and file systems where the WAL can corrupt the file are refused.
  try {
    checkOwnFiles(opts.path, sharing);
    checkWritable(opts.path);
    if (!opts.allowNetworkFileSystem) checkLocalFileSystem(opts.path);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('ERR_')) throw errorFromData({ name: 'Error', message: (err as Error).message, code });
    throw err;
  }
  if (sharing) createPrivateFile(opts.path); // the meeting point is keyed by the file's inode
  const address = sharing ? shareAddress(opts.path) : null;
  const config: WriterConfig = {
    path: opts.path,
    synchronous: opts.synchronous,
    busyDeadlineMs: opts.busyDeadlineMs,
    busyRetryMinMs: opts.busyRetryMinMs,
    busyRetryMaxMs: opts.busyRetryMaxMs,
    walTargetBytes: opts.walTargetBytes,
    walSoftLimitBytes: opts.walSoftLimitBytes,
    checkpointWaitMs: opts.checkpointWaitMs,
    checkpointEveryCommits: opts.checkpointEveryCommits,
    checkpointMinIntervalMs: opts.checkpointMinIntervalMs,
    maxBatchOps: opts.maxBatchOps,
    maxBatchBytes: opts.maxBatchBytes,
    statementCacheSize: opts.statementCacheSize,
    proceduresUrl: opts.procedures,
    allowUnsafeSqliteVersion: opts.allowUnsafeSqliteVersion,
    noticeChannel: `litescribe:${process.pid}:${randomUUID()}`,
    share: address,
  };
  let runner: TaskRunner;
  let opened: Opened;
  let fellBack: RoleChange | null = null;
  if (address !== null) {
    ({ writer: runner, opened, fellBack } = await SharedWriter.open(
      { ...config, share: address },
      { procedures: opts.procedures, synchronous: opts.synchronous },
      opts.setup,
      hooks,
    ));
  } else {
    const started = await WriterThread.start(sqliteWriterSpec(config), opts.setup, hooks.onNotice, hooks.onError);
    if ('failed' in started) throw errorFromData(started.failed);
    ({ thread: runner, opened } = started);
  }
  const readers =
    opts.readers === 0
      ? null
      : new ReaderPool(sqliteReaderSpec({ path: opts.path, statementCacheSize: opts.statementCacheSize, busyTimeoutMs: 5_000, safeIntegers: opts.safeIntegers }, opts.readers));
  return { runner, opened, readers, periodicCheckpoints: true, handsOver: address !== null, fellBack };
}

/** PostgreSQL: its writer thread and reader thread; the scheduler is the same. */
async function openPostgresEngine(opts: ResolvedOptions & { url: string }, hooks: EngineHooks): Promise<Engine> {
  const { thread, opened, readers } = await openPostgres(opts, hooks.onNotice, hooks.onError);
  return { runner: thread, opened, readers, periodicCheckpoints: false, handsOver: false, fellBack: null };
}
