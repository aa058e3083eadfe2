import { createRequire } from 'node:module';
import { Piscina } from 'piscina';
import type { ReaderConfig, ReaderReply, ReaderTask } from '@litescribe/reader-worker';
import { WorkerExitedError, errorFromData } from './errors.js';

const READER_ENTRY = createRequire(import.meta.url).resolve('@litescribe/reader-worker');

/** How reads are served: which threads, and how many reads each takes at once. */
export interface ReaderPoolSpec {
  /** Built module exporting `handleRead`. */
  readonly filename: string;
  readonly workerData: unknown;
  readonly threads: number;
  readonly readsPerThread: number;
  /** Keep each thread's event loop live between reads (its connections and timers are serviced). */
  readonly liveLoop: boolean;
}

/** SQLite: `readers` threads, each with one read-only connection, one read at a time. */
export function sqliteReaderSpec(config: ReaderConfig, readers: number): ReaderPoolSpec {
  return { filename: READER_ENTRY, workerData: config, threads: readers, readsPerThread: 1, liveLoop: false };
}

/**
 * Reader threads: piscina workers that start on the first read and end after 30 s idle, so a queue
 * that never reads costs none. On SQLite, up to `readers` threads each with a read-only connection;
 * on PostgreSQL, one thread whose pool holds `readers` connections. Reads run in parallel.
 */
export class ReaderPool {
  readonly #pool: Piscina<ReaderTask, ReaderReply>;
  /** Reads issued and not yet answered; close() waits for them (piscina's own close does not wait for reads still queued). */
  readonly #pending = new Set<Promise<unknown>>();

  constructor(spec: ReaderPoolSpec) {
    this.#pool = new Piscina<ReaderTask, ReaderReply>({
      filename: spec.filename,
      name: 'handleRead',
      minThreads: 0,
      maxThreads: spec.threads,
      idleTimeout: 30_000,
      concurrentTasksPerWorker: spec.readsPerThread,
      workerData: spec.workerData,
      recordTiming: false,
      atomics: spec.liveLoop ? 'disabled' : 'sync',
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
