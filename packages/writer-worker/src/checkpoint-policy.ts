/**
 * When a periodic checkpoint is due: every `every` commits; at once when the WAL is over the soft
 * limit; ten times as often while it is over the target size. One rule for the main thread's
 * scheduler (its own commits) and a shared writer's leader (every process's commits). Loads no
 * SQLite: `@litescribe/writer-worker/checkpoint-policy`.
 */
export function periodicCheckpointDue(commits: number, every: number, overLimit: boolean, overTarget: boolean): boolean {
  return overLimit || commits >= every || (overTarget && commits >= Math.ceil(every / 10));
}
