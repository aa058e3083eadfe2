import { randomBytes } from 'node:crypto';
import { open, rename, stat, unlink } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { BackupConfig, BackupMessage } from '@litescribe/reader-worker';
import { InvalidOptionError, WorkerExitedError, describeValue, errorFromData } from './errors.js';
import { checkNodeVersion } from './node-support.js';

// The built entry of a backup thread, resolved, never imported here (this thread must not load better-sqlite3).
const BACKUP_ENTRY = createRequire(import.meta.url).resolve('@litescribe/reader-worker/backup');

/** Pages per step of the copy (4 MiB at the default 4 KiB page size, a few ms of the backup thread each). */
const STEP_PAGES = 1024;

/** How far a backup has come; passed to `onProgress` after each step. */
export interface BackupProgress {
  readonly pagesCopied: number;
  readonly pagesTotal: number;
  readonly bytesCopied: number;
  readonly bytesTotal: number;
}

/** Options of {@link backupFile} and `WriteQueue.backup`. */
export interface BackupOptions {
  /** Cancels the copy: the promise rejects with `signal.reason` and no file is left at the destination or beside it. */
  signal?: AbortSignal;
  /** Called on this thread after each step of the copy. If it throws, the backup is cancelled with that error. */
  onProgress?: (progress: BackupProgress) => void;
  /** How long opening the source waits out another process recovering its WAL, in ms. Default 5000. */
  busyTimeoutMs?: number;
}

/** What a finished backup wrote. */
export interface BackupResult {
  /** Absolute path of the copy. */
  readonly path: string;
  readonly pages: number;
  readonly bytes: number;
  readonly durationMs: number;
}

/**
 * Copies the SQLite database at `source` to `destination`: a consistent copy (one read snapshot;
 * it holds every transaction committed before the call) taken while writers keep committing.
 *
 * The copy runs on a thread of its own, in steps; it takes no write lock and never holds a writer.
 * It is written to a temporary name beside the destination with mode 0600 and renamed over the
 * destination when complete, so a reader of the destination sees the old file or the whole new one.
 * While it runs, its snapshot keeps checkpoints from reaching past it, so the source's WAL may grow
 * by what is written meanwhile.
 *
 * Refused with `InvalidOptionError`: a destination that is the source or one of its `-wal`, `-shm`,
 * `-journal` files, a directory, a folder that does not exist, or a destination with a `-wal` or
 * `-shm` beside it (a database there may be open; replacing its file under it would corrupt it).
 */
export async function backupFile(source: string, destination: string, options: BackupOptions = {}): Promise<BackupResult> {
  checkNodeVersion();
  if (typeof options !== 'object' || options === null) throw new InvalidOptionError(`Expected the backup options to be an object like { signal, onProgress }, got ${describeValue(options)}`);
  const { signal, onProgress, busyTimeoutMs = 5000 } = options;
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw new InvalidOptionError(`Expected \`signal\` to be an AbortSignal, got ${describeValue(signal)}`);
  if (onProgress !== undefined && typeof onProgress !== 'function') throw new InvalidOptionError(`Expected \`onProgress\` to be a function, got ${describeValue(onProgress)}`);
  if (typeof busyTimeoutMs !== 'number' || !Number.isInteger(busyTimeoutMs) || busyTimeoutMs < 0) throw new InvalidOptionError(`Expected \`busyTimeoutMs\` to be an integer >= 0, got ${describeValue(busyTimeoutMs)}`);
  if (typeof source !== 'string' || source.trim() === '') throw new InvalidOptionError(`Expected the database to back up to be a file path, got ${describeValue(source)}`);
  if (typeof destination !== 'string' || destination.trim() === '') throw new InvalidOptionError(`Expected the backup's destination to be a file path, got ${describeValue(destination)}`);
  signal?.throwIfAborted();
  const from = resolve(source);
  const to = resolve(destination);
  const db = await stat(from).catch(() => null);
  if (db === null || !db.isFile()) throw new InvalidOptionError(`The database to back up ${describeValue(from)} ${db === null ? 'does not exist' : 'is not a file'}`);
  await checkDestination(from, db, to);

  const started = performance.now();
  const temp = resolve(dirname(to), `.${basename(to)}.litescribe-backup-${randomBytes(6).toString('hex')}`);
  // Created here, owner-only, before SQLite writes a page into it: the copy is never readable by others.
  await (await open(temp, 'wx', 0o600)).close();
  try {
    const done = await runThread({ source: from, target: temp, stepPages: STEP_PAGES, busyTimeoutMs }, signal, onProgress);
    signal?.throwIfAborted();
    await rename(temp, to);
    return { path: to, pages: done.pages, bytes: done.pages * done.pageSize, durationMs: performance.now() - started };
  } catch (err) {
    await removeWithSidecars(temp);
    throw err;
  }
}

async function checkDestination(from: string, db: Stats, to: string): Promise<void> {
  const own = [from, `${from}-wal`, `${from}-shm`, `${from}-journal`];
  if (own.includes(to)) throw new InvalidOptionError(`The backup's destination ${describeValue(to)} is the database or one of its files`);
  const folder = await stat(dirname(to)).catch(() => null);
  if (folder === null || !folder.isDirectory()) throw new InvalidOptionError(`The backup's destination folder ${describeValue(dirname(to))} does not exist`);
  const existing = await stat(to).catch(() => null);
  if (existing !== null) {
    if (!existing.isFile()) throw new InvalidOptionError(`The backup's destination ${describeValue(to)} exists and is not a file`);
    if (db.dev === existing.dev && db.ino === existing.ino) throw new InvalidOptionError(`The backup's destination ${describeValue(to)} is the database itself (another name for the same file)`);
  }
  for (const suffix of ['-wal', '-shm']) {
    if ((await stat(`${to}${suffix}`).catch(() => null)) !== null) {
      throw new InvalidOptionError(`The backup's destination ${describeValue(to)} has a ${suffix} file beside it: a database there may be open, and replacing its file would corrupt it; remove it or choose another name`);
    }
  }
}

function runThread(
  config: BackupConfig,
  signal: AbortSignal | undefined,
  onProgress: ((progress: BackupProgress) => void) | undefined,
): Promise<{ pages: number; pageSize: number }> {
  return new Promise((resolvePromise, reject) => {
    const thread = new Worker(BACKUP_ENTRY, { workerData: config });
    let outcome: { ok: true; value: { pages: number; pageSize: number } } | { ok: false; error: unknown } | null = null;
    // Settled once the thread has exited, so the caller never removes a file the thread still writes.
    const stop = (error: unknown): void => {
      if (outcome !== null) return;
      outcome = { ok: false, error };
      void thread.terminate();
    };
    const onAbort = (): void => stop(signal!.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    thread.on('message', (message: BackupMessage) => {
      if (outcome !== null) return;
      switch (message.kind) {
        case 'progress':
          try {
            onProgress?.({
              pagesCopied: message.pagesCopied,
              pagesTotal: message.pagesTotal,
              bytesCopied: message.pagesCopied * message.pageSize,
              bytesTotal: message.pagesTotal * message.pageSize,
            });
          } catch (err) {
            stop(err);
          }
          break;
        case 'done':
          outcome = { ok: true, value: { pages: message.pages, pageSize: message.pageSize } };
          break;
        case 'failed':
          outcome = { ok: false, error: errorFromData(message.error) };
          break;
      }
    });
    thread.on('error', (err) => stop(new WorkerExitedError(`the backup thread failed: ${err.message}`, { cause: err })));
    thread.on('exit', (code) => {
      signal?.removeEventListener('abort', onAbort);
      const result = outcome ?? { ok: false, error: new WorkerExitedError(`the backup thread exited (code ${code}) before the copy was complete`) };
      if (result.ok) resolvePromise(result.value);
      else reject(result.error);
    });
  });
}

async function removeWithSidecars(file: string): Promise<void> {
  await Promise.all(['', '-journal', '-wal', '-shm'].map((suffix) => unlink(`${file}${suffix}`).catch(() => {})));
}
