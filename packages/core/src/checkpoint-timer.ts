import { periodicCheckpointDue } from '@litescribe/writer-worker/checkpoint-policy';
import type { ResolvedOptions } from './options.js';

/**
 * While a burst is queued, periodic checkpoints wait until the WAL passes this share of
 * `walSoftLimitBytes` (32 MiB by default). A checkpoint costs the writer time in proportion to the
 * frames it copies, and during a burst every millisecond of it is added to the burst. A
 * 50,000-row import through `run()` (98 commits of 512) checkpointed every 5 commits once past the
 * 4 MiB target: 20 passes, 141–161 ms; waiting for 32 MiB: 4 passes, 103–120 ms (five runs each,
 * alternated, on the 2-core machine kind). Pages rewritten by later commits are copied once, and
 * what is left when the burst drains is copied after it. The soft limit still holds, and a load
 * that never drains checkpoints as usual past this mark.
 */
const BURST_SHARE_OF_SOFT_LIMIT = 0.5;

/**
 * When the scheduler slips a periodic checkpoint between batches: every `checkpointEveryCommits`
 * commits; at once when the WAL is over the soft limit; ten times as often while it is over the
 * target size. None of these until half the soft limit while a burst is queued: more operations
 * than one batch takes (see `BURST_SHARE_OF_SOFT_LIMIT`). The over-target rule matters with several
 * processes: each counts only its own commits, and the WAL grows with everyone's. (A shared writer's leader skips one
 * asked for too soon after another process's: see the writer's handle-task.)
 *
 * The WAL sizes come from batch replies, not from the last size seen: a checkpoint that could not
 * shrink the WAL (readers held it) must be followed by a batch before the next one, or checkpoints
 * would run back to back with no write in between. A reply to a batch sent before the last
 * checkpoint does not count: the writer ran that batch first, so the size it reports is the one the
 * checkpoint then shrank (counting it made every other checkpoint of a burst come early).
 */
export class CheckpointTimer {
  readonly #opts: Pick<ResolvedOptions, 'checkpointEveryCommits' | 'checkpointMinIntervalMs' | 'walSoftLimitBytes' | 'walTargetBytes'>;
  #commits = 0;
  /** The largest WAL size a batch reply reported since the last checkpoint. */
  #walPeak = 0;
  /** Checkpoints sent so far: a batch carries the count at its sending. */
  #epoch = 0;
  /** Holds taken by backups running in this process: no periodic checkpoint while any is held. */
  #holds = 0;

  /** When the last checkpoint was sent (or the timer made). */
  #lastAt = performance.now();

  constructor(opts: Pick<ResolvedOptions, 'checkpointEveryCommits' | 'checkpointMinIntervalMs' | 'walSoftLimitBytes' | 'walTargetBytes'>) {
    this.#opts = opts;
  }

  /** What a batch sent now carries, for `noteBatch`. */
  get epoch(): number {
    return this.#epoch;
  }

  /** A batch reply: whether it committed, the WAL size it saw, and `epoch` when it was sent. */
  noteBatch(committed: boolean, walBytes: number, sentAt: number): void {
    if (sentAt !== this.#epoch) return;
    if (committed) this.#commits += 1;
    if (walBytes > this.#walPeak) this.#walPeak = walBytes;
  }

  /** A checkpoint was sent (periodic or requested): counting starts again. */
  noteCheckpoint(): void {
    this.#epoch += 1;
    this.#lastAt = performance.now();
    this.#commits = 0;
    this.#walPeak = 0;
  }

  /**
   * No periodic checkpoint until the returned function is called. A backup's read snapshot keeps
   * every checkpoint from reaching past it, and over the soft limit each attempt would hold the
   * writer for `checkpointWaitMs` for nothing; the backup thread copies the backlog itself when
   * it lets go (see the reader-worker's backup thread). Requested checkpoints still run.
   */
  hold(): () => void {
    this.#holds += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#holds -= 1;
    };
  }

  /** Whether to send a checkpoint now; `burst`: more operations are queued than one batch takes. */
  due(burst: boolean): boolean {
    if (this.#holds > 0) return false;
    const { checkpointEveryCommits, checkpointMinIntervalMs, walSoftLimitBytes, walTargetBytes } = this.#opts;
    if (burst && this.#walPeak <= BURST_SHARE_OF_SOFT_LIMIT * walSoftLimitBytes) return false;
    return periodicCheckpointDue(
      this.#commits,
      checkpointEveryCommits,
      this.#walPeak > walSoftLimitBytes,
      this.#walPeak > walTargetBytes,
      performance.now() - this.#lastAt,
      checkpointMinIntervalMs,
    );
  }
}
