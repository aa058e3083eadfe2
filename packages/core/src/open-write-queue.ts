import { randomUUID } from 'node:crypto';
import type { WriterConfig } from '@litescribe/writer-worker';
import { createPrivateFile, shareAddress } from '@litescribe/writer-worker/link';
import { BatchScheduler } from './batch-scheduler.js';
import { errorFromData } from './errors.js';
import { handOverAtExit } from './hand-over-at-exit.js';
import { resolveOptions } from './options.js';
import type { ResolvedOptions, WriteQueueOptions } from './options.js';
import { StatsRecorder } from './queue-stats.js';
import { openPostgres } from './open-postgres.js';
import { ReaderPool, sqliteReaderSpec } from './reader-pool.js';
import { SharedWriter } from './shared-writer.js';
import type { Opened } from './shared-writer.js';
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
  const opts = resolveOptions(options);
  if (opts.url !== null) return openPostgresQueue(opts as ResolvedOptions & { url: string });
  // Abstract sockets (the meeting point) are Linux's; elsewhere every process writes for itself.
  const sharing = opts.shareWriter === 'auto' && process.platform === 'linux';
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
    maxBatchOps: opts.maxBatchOps,
    maxBatchBytes: opts.maxBatchBytes,
    statementCacheSize: opts.statementCacheSize,
    proceduresUrl: opts.procedures,
    allowUnsafeSqliteVersion: opts.allowUnsafeSqliteVersion,
    noticeChannel: `litescribe:${process.pid}:${randomUUID()}`,
    share: address,
  };
  // The writer's callbacks reach the queue once it exists; nothing is reported before open resolves.
  let queue: WriteQueue | undefined;
  const hooks = { onNotice: (notice: Parameters<WriteQueue['notice']>[0]) => queue?.notice(notice), onError: (err: Error) => queue?.reportError(err) };
  let runner: TaskRunner;
  let opened: Opened;
  if (address !== null) {
    ({ writer: runner, opened } = await SharedWriter.open(
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
  const stats = new StatsRecorder();
  stats.walBytes = opened.walBytes;
  const scheduler = new BatchScheduler(runner, opts, stats, {
    onCheckpoint: (report) => queue?.reportCheckpoint(report),
    onError: (err) => queue?.reportError(err),
    subject: () => queue,
  });
  const readers = opts.readers === 0 ? null : new ReaderPool(sqliteReaderSpec({ path: opts.path, statementCacheSize: opts.statementCacheSize, busyTimeoutMs: 5_000, safeIntegers: opts.safeIntegers }, opts.readers));
  queue = new WriteQueue(opts, runner, scheduler, stats, opened, readers);
  if (address !== null) handOverAtExit(queue);
  return queue;
}

/** The same queue on PostgreSQL: the scheduler is unchanged, the runner is the PostgreSQL writer thread. */
async function openPostgresQueue(opts: ResolvedOptions & { url: string }): Promise<WriteQueue> {
  let queue: WriteQueue | undefined;
  const { thread, opened, readers } = await openPostgres(
    opts,
    (notice) => queue?.notice(notice),
    (err) => queue?.reportError(err),
  );
  const stats = new StatsRecorder();
  // No periodic checkpoints: the server runs its own.
  const scheduler = new BatchScheduler(thread, opts, stats, { onCheckpoint: () => {}, onError: (err) => queue?.reportError(err), subject: () => queue }, false);
  queue = new WriteQueue(opts, thread, scheduler, stats, opened, readers);
  return queue;
}
