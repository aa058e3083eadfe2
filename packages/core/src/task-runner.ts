import type { WriterReply, WriterTask } from '@litescribe/writer-worker';

/** Tasks handed to a runner at once: one running, one waiting behind it. */
export const MAX_TASKS_IN_FLIGHT = 2;

/**
 * The one seam under the scheduler: something that runs a writer task and answers. The scheduler
 * (group commit, order, backpressure, flush) never learns which: this process's own writer thread
 * ({@link WriterThread}), or a shared writer that is either that thread serving other processes too
 * or a socket to another process's ({@link SharedWriter}). What only one kind has travels in the
 * replies (WAL sizes, lock waits), not as methods here.
 *
 * `run` answers tasks in the order given. It rejects only when the task's outcome is unknown
 * (`WorkerExitedError`) or the task could not be handed over at all (a typed error); every other
 * failure comes back as a `failed` reply.
 */
export interface TaskRunner {
  run(task: WriterTask): Promise<WriterReply>;
  /** Ends at once; a task in flight is abandoned (its outcome is unknown). */
  destroy(): Promise<void>;
}
