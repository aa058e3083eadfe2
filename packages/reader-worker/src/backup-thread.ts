/**
 * The entry of a backup thread (`@litescribe/reader-worker/backup`): copies one database into a
 * file, page by page, from a single read snapshot, then exits. Posts {@link BackupMessage}s.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { toErrorData } from '@litescribe/writer-worker';
import type { BackupConfig, BackupMessage } from './backup-protocol.js';

const config = workerData as BackupConfig;
const post = (message: BackupMessage): void => parentPort!.postMessage(message);

async function copy(): Promise<void> {
  const db = new Database(config.source, { readonly: true, fileMustExist: true, timeout: config.busyTimeoutMs });
  try {
    // One read transaction for the whole copy. SQLite's backup restarts from page 1 whenever the
    // source changes between steps; inside an open read transaction (WAL mode) the source this
    // connection sees never changes, so the copy advances while the writer keeps committing, and
    // it is exactly the database as of this SELECT: every write acknowledged before it.
    db.exec('BEGIN');
    db.prepare('SELECT count(*) FROM sqlite_schema').get();
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    const result = await db.backup(config.target, {
      progress: ({ totalPages, remainingPages }) => {
        post({ kind: 'progress', pagesCopied: totalPages - remainingPages, pagesTotal: totalPages, pageSize });
        return config.stepPages;
      },
    });
    db.exec('COMMIT');
    // better-sqlite3 calls `progress` only between steps, not after the last one.
    post({ kind: 'progress', pagesCopied: result.totalPages, pagesTotal: result.totalPages, pageSize });
    catchUp();
    post({ kind: 'done', pages: result.totalPages, pageSize });
  } finally {
    db.close();
  }
}

/**
 * Copies into the database the WAL frames written while the snapshot held checkpoints back, here,
 * with a PASSIVE checkpoint: it takes no write lock, so writers keep committing while it copies.
 * Left to the writer, that backlog (64 MiB after a 228 MiB backup under 64 writing callers) was one
 * checkpoint holding the writer for ~220 ms. Best effort: a checkpoint running elsewhere (busy), or
 * a file this process may only read, leaves the work to the writer's own checkpoints.
 */
function catchUp(): void {
  let rw: Database.Database | null = null;
  try {
    rw = new Database(config.source, { fileMustExist: true, timeout: 0 });
    // Writers add frames while a pass copies; a few passes leave the writer's next checkpoint
    // little more than resetting the WAL (~36 ms for a 116 MiB -wal on the bench machine kind).
    for (let pass = 0; pass < 4; pass++) {
      const [r] = rw.pragma('wal_checkpoint(PASSIVE)') as Array<{ busy: number; log: number; checkpointed: number }>;
      if (r === undefined || r.busy !== 0 || r.log - r.checkpointed < 256) break;
    }
  } catch {
    // See above: not this thread's job to report.
  } finally {
    rw?.close();
  }
}

copy().catch((err: unknown) => post({ kind: 'failed', error: toErrorData(err) }));
