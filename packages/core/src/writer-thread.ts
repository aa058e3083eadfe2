import { createRequire } from 'node:module';
import { BroadcastChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { ErrorData, WriterConfig, WriterNotice, WriterReply, WriterTask } from '@litescribe/writer-worker';
import { InvalidParamsError, WorkerExitedError } from './errors.js';
import { MAX_TASKS_IN_FLIGHT } from './task-runner.js';
import type { TaskRunner } from './task-runner.js';

// The built entry of @litescribe/writer-worker: what users run, resolved, never imported here (the
// main thread must not load better-sqlite3).
const WRITER_ENTRY = createRequire(import.meta.url).resolve('@litescribe/writer-worker');

/** What a writer thread runs: its entry module, its `workerData`, and whether its event loop must stay live. */
export interface WriterThreadSpec {
  /** Built module exporting `handleTask` (the SQLite writer's, or `@litescribe/pg-writer`'s). */
  readonly filename: string;
  readonly workerData: unknown;
  readonly noticeChannel: string;
  /**
   * Keep the thread's event loop running between tasks: a leader serves followers' sockets, and
   * the PostgreSQL writer's connection must notice a server that goes away while it is idle.
   */
  readonly liveLoop: boolean;
  /** Cap on the thread's young generation (V8's nursery), in MiB; V8's default when absent. */
  readonly youngGenerationMb?: number;
}

/**
 * Young generation of a SQLite writer thread (V8's default for a worker here: 48 MiB; the old
 * generation keeps its default). A leader serves a socket anyone on the machine can connect to,
 * and every connection allocates: under a flood of them V8 grew the nursery to its largest and
 * kept it. An ad-hoc probe (a paced leader, a stranger as uid 65534 opening ~15,000 connections a
 * second for 4 s, 2-core CI machine kind, 2026-11-29): the leader's RSS grew 46–56 MiB with the
 * default, 30–32 MiB with 8, 24 MiB with 4. One caller writing back to back for 20 s settled
 * 76–98 MiB above its start with the default and 53 MiB with 8. What it costs: more frequent
 * scavenges in the writer. `--only strategies`, ten runs each, alternated: the throughput rows
 * stayed within their run-to-run spread; in the row paced at half of peak, the caller's event-loop
 * delay p99 was 1.1–4.2 ms with the default and 1.6–4.5 ms with 8, its max 4.2–9.7 ms and
 * 5.2–14.4 ms.
 */
const WRITER_YOUNG_GENERATION_MB = 8;

/** The spec of a SQLite writer thread (a leader of a shared writer keeps its loop live). */
export function sqliteWriterSpec(config: WriterConfig): WriterThreadSpec {
  return { filename: WRITER_ENTRY, workerData: config, noticeChannel: config.noticeChannel, liveLoop: config.share !== null, youngGenerationMb: WRITER_YOUNG_GENERATION_MB };
}

/**
 * The writer thread, run by piscina with exactly one worker.
 *
 * piscina gives the lifecycle: it starts the thread, rejects the running task if the thread dies and
 * starts a replacement for the tasks still queued, and unrefs an idle thread so an open queue does
 * not keep a finished process alive.
 */
export class WriterThread implements TaskRunner {
  readonly #pool: Piscina<WriterTask, WriterReply>;
  readonly #notices: BroadcastChannel;
  #destroyed = false;

  constructor(spec: WriterThreadSpec, onNotice: (notice: WriterNotice) => void, onError: (err: Error) => void) {
    this.#pool = new Piscina<WriterTask, WriterReply>({
      filename: spec.filename,
      name: 'handleTask',
      minThreads: 1,
      maxThreads: 1,
      // Two tasks with the worker: it runs them one after another (see handleTask), and the second
      // is already there when the first ends, so the writer does not wait on this thread's event loop.
      concurrentTasksPerWorker: MAX_TASKS_IN_FLIGHT,
      idleTimeout: Number.POSITIVE_INFINITY,
      workerData: spec.workerData,
      recordTiming: false,
      // 'sync' parks the thread's event loop between tasks (cheapest hand-over). A leader serves
      // followers' sockets from this thread, so its loop must stay live: plain messages then.
      // ('async', Atomics.waitAsync, cost a lone awaiting write ~25% more in the caller-shapes
      // row; 'disabled' was within the run-to-run spread of 'sync'.)
      atomics: spec.liveLoop ? 'disabled' : 'sync',
      ...(spec.youngGenerationMb === undefined ? {} : { resourceLimits: { maxYoungGenerationSizeMb: spec.youngGenerationMb } }),
    });
    // A thread that dies with no task in hand is reported here rather than crashing the process.
    this.#pool.on('error', (err: Error) => onError(new WorkerExitedError(`writer thread failed: ${err.message}`, { cause: err })));
    this.#notices = new BroadcastChannel(spec.noticeChannel);
    this.#notices.onmessage = (event) => onNotice((event as { data: WriterNotice }).data);
    this.#notices.unref();
  }

  /**
   * Starts a writer thread and opens the database (`open` with `setup`). Resolves with the thread and
   * what it opened, or — with the thread already ended — with the error the writer answered. A
   * thread that dies while opening rejects (`WorkerExitedError`), also with nothing left running.
   */
  static async start(
    spec: WriterThreadSpec,
    setup: readonly string[],
    onNotice: (notice: WriterNotice) => void,
    onError: (err: Error) => void,
  ): Promise<{ readonly thread: WriterThread; readonly opened: WriterReply & { kind: 'opened' } } | { readonly failed: ErrorData }> {
    const thread = new WriterThread(spec, onNotice, onError);
    let reply: WriterReply;
    try {
      reply = await thread.run({ kind: 'open', setup });
    } catch (err) {
      await thread.destroy();
      throw err;
    }
    if (reply.kind === 'opened') return { thread, opened: reply };
    await thread.destroy();
    return { failed: reply.kind === 'failed' ? reply.error : { name: 'Error', message: `writer answered open with ${reply.kind}` } };
  }

  /**
   * Runs one task. The handler never throws, so a rejection means the thread itself ended with the
   * task in hand: that becomes `WorkerExitedError` (the task's outcome is unknown).
   */
  async run(task: WriterTask): Promise<WriterReply> {
    try {
      return await this.#pool.run(task);
    } catch (err) {
      if ((err as Error).name === 'DataCloneError') {
        throw new InvalidParamsError(`a value in this batch cannot be sent to the writer thread: ${(err as Error).message}`);
      }
      const why = this.#destroyed ? 'the queue was destroyed' : `the writer thread exited (${(err as Error).message})`;
      throw new WorkerExitedError(`${why} while this operation was in flight; whether it committed is unknown`, { cause: err });
    }
  }

  /** Ends the thread at once (an in-flight task is abandoned). */
  async destroy(): Promise<void> {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#notices.close();
    await this.#pool.destroy();
  }
}
