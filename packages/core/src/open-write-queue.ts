import { randomUUID } from 'node:crypto';
import type { WriterConfig } from '@litescribe/writer-worker';
import { BatchScheduler } from './batch-scheduler.js';
import { errorFromData } from './errors.js';
import { resolveOptions } from './options.js';
import type { WriteQueueOptions } from './options.js';
import { StatsRecorder } from './queue-stats.js';
import { ReaderPool } from './reader-pool.js';
import { WriteQueue } from './write-queue.js';
import { WriterThread } from './writer-thread.js';

/**
 * Opens a write queue on a SQLite file.
 *
 * Resolves once the writer thread has opened the file, switched it to WAL, applied `synchronous`,
 * run `setup` (once, in one transaction) and loaded `procedures`. If any step fails it rejects with
 * a typed error and no thread is left running.
 */
export async function openWriteQueue(options: WriteQueueOptions): Promise<WriteQueue> {
  const opts = resolveOptions(options);
  const config: WriterConfig = {
    path: opts.path,
    synchronous: opts.synchronous,
    busyDeadlineMs: opts.busyDeadlineMs,
    busyRetryMinMs: opts.busyRetryMinMs,
    busyRetryMaxMs: opts.busyRetryMaxMs,
    walTargetBytes: opts.walTargetBytes,
    walSoftLimitBytes: opts.walSoftLimitBytes,
    checkpointWaitMs: opts.checkpointWaitMs,
    statementCacheSize: opts.statementCacheSize,
    proceduresUrl: opts.procedures,
    allowUnsafeSqliteVersion: opts.allowUnsafeSqliteVersion,
    noticeChannel: `litescribe:${process.pid}:${randomUUID()}`,
  };
  // The thread's callbacks reach the queue once it exists; nothing is reported before open resolves.
  let queue: WriteQueue | undefined;
  const thread = new WriterThread(
    config,
    (notice) => queue?.notice(notice),
    (err) => queue?.reportError(err),
  );
  let opened;
  try {
    opened = await thread.run({ kind: 'open', setup: opts.setup });
  } catch (err) {
    await thread.destroy();
    throw err;
  }
  if (opened.kind !== 'opened') {
    await thread.destroy();
    throw opened.kind === 'failed' ? errorFromData(opened.error) : new Error(`writer answered open with ${opened.kind}`);
  }
  const stats = new StatsRecorder();
  stats.walBytes = opened.walBytes;
  const scheduler = new BatchScheduler(thread, opts, stats, {
    onCheckpoint: (report) => queue?.emit('checkpoint', report),
    onError: (err) => queue?.reportError(err),
  });
  const readers = opts.readers === 0 ? null : new ReaderPool({ path: opts.path, statementCacheSize: opts.statementCacheSize, busyTimeoutMs: 5_000 }, opts.readers);
  queue = new WriteQueue(opts, thread, scheduler, stats, opened, readers);
  return queue;
}
