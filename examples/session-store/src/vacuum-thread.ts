// The thread `vacuumFile` starts: one connection, VACUUM, a checkpoint, done.
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

const { path, busyTimeoutMs } = workerData as { path: string; busyTimeoutMs: number };
try {
  const db = new Database(path, { fileMustExist: true, timeout: busyTimeoutMs });
  try {
    db.exec('VACUUM');
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
  parentPort!.postMessage({});
} catch (err) {
  parentPort!.postMessage({ error: (err as Error).message });
}
