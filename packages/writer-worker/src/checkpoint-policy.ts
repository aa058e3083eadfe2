/**
 * When a periodic checkpoint is due: every `every` commits, but not sooner than `minIntervalMs`
 * after the last; at once when the WAL is over the soft limit; ten times as often (and with no
 * interval) while it is over the target size. One rule for the main thread's scheduler (its own
 * commits) and a shared writer's leader (every process's commits). Loads no SQLite:
 * `@litescribe/writer-worker/checkpoint-policy`.
 *
 * Why the interval: with small transactions, 50 commits are a few dozen WAL frames, mostly new
 * versions of the same pages, and each PASSIVE pass costs a sync of the database file whatever it
 * copies. A lone caller awaiting one-row inserts checkpointed ~200 times a second, 12–17 µs of CPU
 * per write (110–115 µs per write against 98 with checkpoints 10x rarer, `shareWriter: 'off'`, on
 * the 2-core machine kind). The WAL stays bounded: below the target size it is small by definition,
 * and over it the interval does not apply.
 */
export function periodicCheckpointDue(commits: number, every: number, overLimit: boolean, overTarget: boolean, msSinceLast: number, minIntervalMs: number): boolean {
  return overLimit || (overTarget && commits >= Math.ceil(every / 10)) || (commits >= every && msSinceLast >= minIntervalMs);
}
