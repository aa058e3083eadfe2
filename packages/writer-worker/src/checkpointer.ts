import { setTimeout as sleep } from 'node:timers/promises';
import { isBusyCode } from './error-data.js';
import type { CheckpointMode, CheckpointReport } from './protocol.js';
import type { WriterConnection } from './writer-connection.js';

interface PassResult {
  readonly busy: boolean;
  readonly walFrames: number;
  readonly checkpointedFrames: number;
}

/**
 * Runs checkpoints for the writer. They are tasks of their own between batches, so no caller's
 * COMMIT waits for one; SQLite's autocheckpoint is off on this connection.
 *
 * `auto`, the periodic policy, picks one pass by the size of the WAL file:
 * - up to `walTargetBytes`: PASSIVE (never waits, never blocks readers or writers);
 * - over it: PASSIVE, then one TRUNCATE attempt (which does what PASSIVE does if the database is busy);
 * - over `walSoftLimitBytes`: TRUNCATE retried for up to `checkpointWaitMs`.
 * PASSIVE alone cannot bound the WAL. The file only stops growing when the WAL is reset, which needs
 * every frame copied at a moment when no snapshot still reads from it. With other processes writing,
 * new frames land while the checkpoint copies and syncs, that moment rarely comes, and the WAL grows
 * until something forces a reset (seen in the bench: 64 MiB at 8 and 16 processes with PASSIVE every
 * 50 commits). TRUNCATE takes the moment when it is there and empties the file; over the soft limit
 * it waits for it. New readers read from the database file once every frame is copied, so even a
 * reader that never lets go moves off the WAL at its next transaction.
 * https://www.sqlite.org/c3ref/wal_checkpoint_v2.html
 */
export async function checkpoint(
  conn: WriterConnection,
  mode: CheckpointMode | 'auto',
  reason: CheckpointReport['reason'],
): Promise<CheckpointReport[]> {
  if (mode !== 'auto') return [await runMode(conn, mode, reason, false)];
  const wal = conn.walBytes();
  if (wal > conn.config.walSoftLimitBytes) return [await runMode(conn, 'truncate', 'wal-limit', true, true, wal)];
  if (wal > conn.config.walTargetBytes) {
    // PASSIVE first, without the write lock: it copies nearly every frame while other processes
    // keep writing. The TRUNCATE attempt after it then holds the write lock only for the frames
    // that landed meanwhile, not for a whole WAL's worth of copying and syncing.
    const first = await runMode(conn, 'passive', reason, false, true, wal);
    return [first, await runMode(conn, 'truncate', reason, true, false, first.walBytesAfter)];
  }
  return [await runMode(conn, 'passive', reason, false, true, wal)];
}

async function runMode(
  conn: WriterConnection,
  mode: CheckpointMode,
  reason: CheckpointReport['reason'],
  escalated: boolean,
  wait = true,
  // The size the caller just looked up, so one checkpoint does not stat the file twice in a row.
  walBytesBefore = conn.walBytes(),
): Promise<CheckpointReport> {
  const started = performance.now();
  let pass = attempt(conn, mode);
  // PASSIVE and FULL report what they did; RESTART and TRUNCATE are worth a short wait for readers.
  if (wait && (mode === 'restart' || mode === 'truncate')) {
    const deadline = started + conn.config.checkpointWaitMs;
    let pause = 1;
    while (pass.busy && performance.now() < deadline) {
      await sleep(Math.min(pause * (0.5 + Math.random()), Math.max(0, deadline - performance.now())));
      pause = Math.min(pause * 2, 20);
      pass = attempt(conn, mode);
    }
  }
  return {
    mode,
    reason,
    busy: pass.busy,
    walFrames: pass.walFrames,
    checkpointedFrames: pass.checkpointedFrames,
    walBytesBefore,
    walBytesAfter: conn.walBytes(),
    durationMs: performance.now() - started,
    escalated,
  };
}

function attempt(conn: WriterConnection, mode: CheckpointMode): PassResult {
  try {
    const row = conn.db.pragma(`wal_checkpoint(${mode.toUpperCase()})`) as Array<{ busy: number; log: number; checkpointed: number }>;
    const r = row[0] ?? { busy: 1, log: -1, checkpointed: -1 };
    return { busy: r.busy !== 0, walFrames: r.log, checkpointedFrames: r.checkpointed };
  } catch (err) {
    // Another connection is checkpointing or holds the lock: reported, never thrown.
    if (isBusyCode((err as { code?: string }).code)) return { busy: true, walFrames: -1, checkpointedFrames: -1 };
    throw err;
  }
}
