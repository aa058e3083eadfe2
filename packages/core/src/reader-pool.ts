import { createRequire } from 'node:module';
import { Piscina } from 'piscina';
import type { ReaderConfig, ReaderReply, ReaderTask } from '@litescribe/reader-worker';
import { WorkerExitedError, errorFromData } from './errors.js';

const READER_ENTRY = createRequire(import.meta.url).resolve('@litescribe/reader-worker');

/**
 * Reader threads: up to `readers` piscina workers, each with a read-only connection to the file.
 * Threads start on the first read and end after 30 s idle, so a queue that never reads costs none.
 * Unlike the writer, reads run in parallel, one per thread.
 */
export class ReaderPool {
  readonly #pool: Piscina<ReaderTask, ReaderReply>;
  /** Reads issued and not yet answered; close() waits for them (piscina's own close does not wait for reads still queued). */
  readonly #pending = new Set<Promise<unknown>>();

  constructor(config: ReaderConfig, readers: number) {
    this.#pool = new Piscina<ReaderTask, ReaderReply>({
      filename: READER_ENTRY,
      name: 'handleRead',
      minThreads: 0,
      maxThreads: readers,
      idleTimeout: 30_000,
      concurrentTasksPerWorker: 1,
      workerData: config,
      recordTiming: false,
    });
    // A reader that dies with no read in hand is replaced on the next read; nothing to report.
    this.#pool.on('error', () => {});
  }

  /** Reader threads running now. */
  get threads(): number {
    return this.#pool.threads.length;
  }

  async read(task: ReaderTask, signal: AbortSignal | undefined): Promise<unknown> {
    let reply: ReaderReply;
    const running = this.#pool.run(task, signal === undefined ? {} : { signal });
    this.#pending.add(running);
    try {
      reply = await running;
    } catch (err) {
      if (signal?.aborted === true) throw signal.reason;
      throw new WorkerExitedError(`the reader thread exited during this read (${(err as Error).message})`, { cause: err });
    } finally {
      this.#pending.delete(running);
    }
    switch (reply.kind) {
      case 'rows':
        return reply.rows;
      case 'row':
        return reply.row;
      case 'failed':
        throw errorFromData(reply.error);
      default:
        throw new Error(`reader answered with ${(reply as { kind: unknown }).kind}`);
    }
  }

  /** Lets the reads already issued finish, then ends the threads. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.#pending]);
    await this.#pool.destroy();
  }

  /** Ends the threads at once; reads in flight reject with `WorkerExitedError`. */
  async destroy(): Promise<void> {
    await this.#pool.destroy();
  }
}
