import { Worker } from 'node:worker_threads';

const THREAD = new URL('./vacuum-thread.js', import.meta.url);

/**
 * Runs `VACUUM` on the file at `path` in a thread of its own, on a connection of its own: never on
 * the caller's thread, never inside one of the queue's batch transactions (SQLite refuses VACUUM
 * in a transaction). Then a TRUNCATE checkpoint, so the rebuilt pages leave the WAL.
 */
export function vacuumFile(path: string, busyTimeoutMs = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(THREAD, { workerData: { path, busyTimeoutMs } });
    let failure: Error | null = null;
    worker.once('message', (m: { error?: string }) => {
      if (m.error !== undefined) failure = new Error(`VACUUM of ${path} failed: ${m.error}`);
    });
    worker.once('error', (err) => (failure = err));
    worker.once('exit', (code) => {
      if (failure !== null) reject(failure);
      else if (code !== 0) reject(new Error(`VACUUM thread exited with code ${code}`));
      else resolve();
    });
  });
}
