import { periodicCheckpointDue } from '@litescribe/writer-worker/checkpoint-policy';
import type { ResolvedOptions } from './options.js';

/**
 * When the scheduler slips a periodic checkpoint between batches: every `checkpointEveryCommits`
 * commits; at once when the WAL is over the soft limit; ten times as often while it is over the
 * target size. The last matters with several processes: each counts only its own commits, and
 * the WAL grows with everyone's. (A shared writer's leader skips one asked for too soon after
 * another process's: see the writer's handle-task.)
 *
 * The over-limit and over-target flags come from batch replies, not from the last WAL size seen:
 * a checkpoint that could not shrink the WAL (readers held it) must be followed by a batch before
 * the next one, or checkpoints would run back to back with no write in between.
 */
export class CheckpointTimer {
  readonly #opts: Pick<ResolvedOptions, 'checkpointEveryCommits' | 'walSoftLimitBytes' | 'walTargetBytes'>;
  #commits = 0;
  #overLimit = false;
  #overTarget = false;

  constructor(opts: Pick<ResolvedOptions, 'checkpointEveryCommits' | 'walSoftLimitBytes' | 'walTargetBytes'>) {
    this.#opts = opts;
  }

  /** A batch reply: whether it committed, and the WAL size it saw. */
  noteBatch(committed: boolean, walBytes: number): void {
    if (committed) this.#commits += 1;
    if (walBytes > this.#opts.walSoftLimitBytes) this.#overLimit = true;
    if (walBytes > this.#opts.walTargetBytes) this.#overTarget = true;
  }

  /** A checkpoint was sent (periodic or requested): counting starts again. */
  noteCheckpoint(): void {
    this.#commits = 0;
    this.#overLimit = false;
    this.#overTarget = false;
  }

  get due(): boolean {
    return periodicCheckpointDue(this.#commits, this.#opts.checkpointEveryCommits, this.#overLimit, this.#overTarget);
  }
}
