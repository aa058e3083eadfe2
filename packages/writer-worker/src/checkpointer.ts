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
 * `auto` is the periodic policy: a PASSIVE pass (never waits, never blocks readers or writers), then,
 * if the WAL file is still over the soft limit, a TRUNCATE retried for up to `checkpointWaitMs`.
 * PASSIVE alone cannot bound the WAL: a reader that always has a snapshot open pins the frames it may
 * need, and the file only shrinks when the WAL is reset. TRUNCATE waits for those readers to move on
 * (new readers read from the database file once every frame is backfilled) and then empties the file.
 * https://www.sqlite.org/c3ref/wal_checkpoint_v2.html
 */
export async function checkpoint(
  conn: WriterConnection,
  mode: CheckpointMode | 'auto',
  reason: CheckpointReport['reason'],
): Promise<CheckpointReport[]> {
  if (mode !== 'auto') return [await runMode(conn, mode, reason, false)];
  const first = await runMode(conn, 'passive', reason, false);
  if (first.walBytesAfter <= conn.config.walSoftLimitBytes) return [first];
  return [first, await runMode(conn, 'truncate', 'wal-limit', true)];
}

async function runMode(
  conn: WriterConnection,
  mode: CheckpointMode,
  reason: CheckpointReport['reason'],
  escalated: boolean,
): Promise<CheckpointReport> {
  const started = performance.now();
  const walBytesBefore = conn.walBytes();
  let pass = attempt(conn, mode);
  // PASSIVE and FULL report what they did; RESTART and TRUNCATE are worth a short wait for readers.
  if (mode === 'restart' || mode === 'truncate') {
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
