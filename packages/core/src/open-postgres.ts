import { createRequire } from 'node:module';
import { randomUUID } from 'node:crypto';
import type { WriterNotice } from '@litescribe/writer-worker';
import type { PgReaderConfig, PgWriterConfig } from '@litescribe/pg-writer';
import { InvalidOptionError, errorFromData } from './errors.js';
import type { ResolvedOptions } from './options.js';
import { ReaderPool } from './reader-pool.js';
import type { Opened } from './share/shared-writer.js';
import { WriterThread } from './writer-thread.js';

/** The built entry of @litescribe/pg-writer, resolved only: its threads load `pg`, this thread never does. */
function pgEntry(): string {
  try {
    return createRequire(import.meta.url).resolve('@litescribe/pg-writer');
  } catch (err) {
    throw new InvalidOptionError(`\`url\` needs the package @litescribe/pg-writer, which could not be found (${(err as Error).message})`);
  }
}

/**
 * Opens the PostgreSQL side: a writer thread with one pipelined connection, and (unless `readers`
 * is 0) a reader thread whose pool holds `readers` read-only connections. The threads do the
 * protocol work (about 16 µs of CPU per pipelined insert, measured: docs/postgres.md), so the
 * caller's thread pays only the hand-over, as with SQLite.
 */
export async function openPostgres(
  opts: ResolvedOptions & { url: string },
  onNotice: (notice: WriterNotice) => void,
  onError: (err: Error) => void,
): Promise<{ readonly thread: WriterThread; readonly opened: Opened; readonly readers: ReaderPool | null }> {
  const filename = pgEntry();
  const config: PgWriterConfig = {
    url: opts.url,
    isolation: opts.isolation,
    busyDeadlineMs: opts.busyDeadlineMs,
    busyRetryMinMs: opts.busyRetryMinMs,
    busyRetryMaxMs: opts.busyRetryMaxMs,
    proceduresUrl: opts.procedures,
    statementCacheSize: opts.statementCacheSize,
    noticeChannel: `litescribe:${process.pid}:${randomUUID()}`,
  };
  const started = await WriterThread.start({ filename, workerData: config, noticeChannel: config.noticeChannel, liveLoop: true }, opts.setup, onNotice, onError);
  if ('failed' in started) throw errorFromData(started.failed);
  const readerConfig: PgReaderConfig = { url: opts.url, connections: opts.readers, busyDeadlineMs: opts.busyDeadlineMs };
  const readers = opts.readers === 0 ? null : new ReaderPool({ filename, workerData: readerConfig, threads: 1, readsPerThread: opts.readers, liveLoop: true });
  return { ...started, readers };
}
