import type { CheckpointMode, CheckpointReport, OpMessage, WriterReply } from '@litescribe/writer-worker';
import { batchDiagnostics, batchOutcomes } from './batch-outcomes.js';
import { toBatchTask } from './batch-task.js';
import { QueueClosedError, QueueFullError, WorkerExitedError, errorFromData } from './errors.js';
import { CheckpointTimer } from './checkpoint-timer.js';
import { SettlePacer } from './settle-pacer.js';
import { batchChannel } from './diagnostics.js';
import { OpFifo } from './op-fifo.js';
import { OpState } from './pending-op.js';
import type { CheckpointRequest, PendingOp } from './pending-op.js';
import { SettleWaiters } from './settle-waiters.js';
import type { ResolvedOptions } from './options.js';
import type { StatsRecorder } from './queue-stats.js';
import { MAX_TASKS_IN_FLIGHT } from './task-runner.js';
import type { TaskRunner } from './task-runner.js';

/** An accepted op whose message is still being prepared: see {@link BatchScheduler.enqueueDeferred}. */
export interface DeferredOp {
  readonly promise: Promise<unknown>;
  ready(msg: OpMessage, bytes: number): void;
  fail(reason: unknown): void;
  settled(): boolean;
}

/** Where the scheduler reports what is not any one caller's business. */
export interface SchedulerHooks {
  readonly onCheckpoint: (report: CheckpointReport) => void;
  readonly onError: (err: Error) => void;
  /** The queue named in diagnostics messages. */
  readonly subject: () => object | undefined;
}

/**
 * Group commit on the main thread's side: holds operations in arrival order and sends them to the
 * writer as batches, at most two tasks at a time (one running, one waiting behind it in the writer).
 *
 * No timer decides when a batch goes. Whatever arrived while the writer was busy becomes the next
 * batch (up to `maxBatchOps` and `maxBatchBytes`); a lone operation on an idle writer goes out in
 * the same tick (a microtask, so a synchronous burst of calls still shares one transaction).
 * Between batches it slips in checkpoints: every `checkpointEveryCommits` commits, when the WAL
 * passed its soft limit, or on request.
 */
export class BatchScheduler {
  readonly #thread: TaskRunner;
  readonly #opts: ResolvedOptions;
  readonly #stats: StatsRecorder;
  readonly #hooks: SchedulerHooks;
  readonly #waiting = new OpFifo<PendingOp>();
  readonly #queued = new OpFifo<PendingOp>();
  #waitingCount = 0;
  /** Queued, in-flight and not yet settled operations: what `maxQueue` bounds. */
  #depth = 0;
  /** Batches with the writer, oldest first (it answers them in order). */
  readonly #inFlight: PendingOp[][] = [];
  /** Tasks (batches and checkpoints) with the writer. */
  #tasksInFlight = 0;
  /** The cause of the last writer crash seen, so one crash that fails two tasks counts once. */
  #lastCrash: unknown = undefined;
  #stopped = false;
  /** destroy() ran: replies still arriving for abandoned tasks are ignored. */
  #aborted = false;
  #pumpScheduled = false;
  #seq = 0;
  /** Null when the engine checkpoints on its own (PostgreSQL). */
  readonly #checkpoints: CheckpointTimer | null;
  readonly #checkpointRequests: CheckpointRequest[] = [];
  readonly #waiters = new SettleWaiters();
  /** Answered batches whose promises settle a turn's budget at a time. */
  readonly #pacer = new SettlePacer((count) => this.#afterSettling(count));

  constructor(thread: TaskRunner, opts: ResolvedOptions, stats: StatsRecorder, hooks: SchedulerHooks, periodicCheckpoints = true) {
    this.#thread = thread;
    this.#opts = opts;
    this.#stats = stats;
    this.#hooks = hooks;
    this.#checkpoints = periodicCheckpoints ? new CheckpointTimer(opts) : null;
  }

  get depth(): number {
    return this.#depth;
  }

  get waitingForRoom(): number {
    return this.#waitingCount;
  }

  /** Accepts an operation; the promise settles once its transaction has committed (or it failed). */
  enqueue(msg: OpMessage, bytes: number, signal: AbortSignal | undefined): Promise<unknown> {
    const accepted = this.#accept(msg, bytes, signal, true);
    return accepted instanceof Promise ? accepted : accepted.promise;
  }

  /**
   * Accepts an operation whose message is still being prepared (`runMany` serializes its rows a
   * slice per turn): it takes its place in the order now, and nothing behind it is sent before
   * `ready()`. `fail()` rejects it; `settled()` says whether it is already settled (cancelled,
   * destroyed), so the preparation can stop.
   */
  enqueueDeferred(signal: AbortSignal | undefined): DeferredOp {
    const placeholder: OpMessage = { kind: 'run', sql: '', params: undefined };
    const accepted = this.#accept(placeholder, 0, signal, false);
    if (accepted instanceof Promise) return { promise: accepted, ready: () => {}, fail: () => {}, settled: () => true };
    const { op, promise } = accepted;
    return {
      promise,
      ready: (msg, bytes) => {
        if (op.state === OpState.Settled) return;
        op.msg = msg;
        op.bytes = bytes;
        op.ready = true;
        this.#schedulePump();
      },
      fail: (reason) => this.#drop(op, reason),
      settled: () => op.state === OpState.Settled,
    };
  }

  #accept(msg: OpMessage, bytes: number, signal: AbortSignal | undefined, ready: boolean): Promise<unknown> | { op: PendingOp; promise: Promise<unknown> } {
    if (this.#stopped) return Promise.reject(new QueueClosedError());
    if (signal?.aborted === true) return Promise.reject(signal.reason);
    const hasRoom = this.#depth < this.#opts.maxQueue && this.#waitingCount === 0;
    if (!hasRoom && this.#opts.onFull === 'reject') return Promise.reject(new QueueFullError(this.#opts.maxQueue));
    let resolve!: (value: unknown) => void;
    let reject!: (reason: unknown) => void;
    const promise = new Promise<unknown>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const op: PendingOp = {
      msg,
      bytes,
      ready,
      seq: ++this.#seq,
      enqueuedAt: performance.now(),
      resolve,
      reject,
      signal,
      onAbort: undefined,
      state: hasRoom ? OpState.Queued : OpState.Waiting,
    };
    if (hasRoom) {
      this.#queued.push(op);
      this.#depth += 1;
    } else {
      this.#waiting.push(op);
      this.#waitingCount += 1;
    }
    if (signal !== undefined) {
      op.onAbort = () => this.#drop(op, signal.reason);
      signal.addEventListener('abort', op.onAbort, { once: true });
    }
    this.#stats.opsEnqueued += 1;
    this.#schedulePump();
    return ready ? promise : { op, promise };
  }

  /** Resolves once every operation enqueued before this call has settled. */
  flush(): Promise<void> {
    if (this.#oldestUnsettled() > this.#seq) return Promise.resolve();
    return this.#waiters.flush(this.#seq);
  }

  /** Runs a checkpoint between batches; resolves with its report. */
  checkpoint(mode: CheckpointMode, signal: AbortSignal | undefined): Promise<CheckpointReport> {
    if (this.#stopped) return Promise.reject(new QueueClosedError());
    if (signal?.aborted === true) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const request: CheckpointRequest = { mode, resolve, reject };
      this.#checkpointRequests.push(request);
      // Cancellable until the writer takes it, like an operation.
      signal?.addEventListener(
        'abort',
        () => {
          const at = this.#checkpointRequests.indexOf(request);
          if (at === -1) return;
          this.#checkpointRequests.splice(at, 1);
          reject(signal.reason);
        },
        { once: true },
      );
      this.#schedulePump();
    });
  }

  /** Holds periodic checkpoints back until the returned function is called (see `CheckpointTimer.hold`). */
  holdCheckpoints(): () => void {
    return this.#checkpoints?.hold() ?? (() => {});
  }

  /** Resolves when nothing is queued, waiting or with the writer. For close(), after intake stopped. */
  whenIdle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return this.#waiters.idle();
  }

  /** Sends nothing more. Anything still queued stays queued (close() drains first). */
  stop(): void {
    this.#stopped = true;
  }

  /**
   * Rejects everything not yet committed and sends nothing more. Queued ops reject with `reason`;
   * ops with the writer reject with `WorkerExitedError`, since the thread is being ended under them.
   */
  abortAll(reason: unknown): void {
    this.#stopped = true;
    this.#aborted = true;
    this.#pacer.settleAll(); // committed or failed already: their outcomes are known
    for (const op of [...this.#waiting.drain(), ...this.#queued.drain()]) {
      if (op.state === OpState.Waiting || op.state === OpState.Queued) this.#settle(op, false, reason);
    }
    const lost = new WorkerExitedError('the queue was destroyed while this operation was with the writer; whether it committed is unknown', { cause: reason });
    for (const batch of this.#inFlight) for (const op of batch) if (op.state === OpState.Sent) this.#settle(op, false, lost);
    for (const req of this.#checkpointRequests.splice(0)) req.reject(reason);
    this.#depth = 0;
    this.#waitingCount = 0;
    this.#checkFlush();
    this.#waiters.settleIdle();
  }

  #schedulePump(): void {
    if (this.#pumpScheduled) return;
    this.#pumpScheduled = true;
    queueMicrotask(() => {
      this.#pumpScheduled = false;
      this.#pump();
    });
  }

  #pump(): void {
    while (!this.#stopped && this.#tasksInFlight < MAX_TASKS_IN_FLIGHT) {
      const request = this.#checkpointRequests.shift();
      if (request !== undefined) {
        this.#sendCheckpoint(request);
      } else if (this.#checkpoints?.due(this.#queued.length > this.#opts.maxBatchOps) === true) {
        this.#sendCheckpoint(null);
      } else if (!this.#sendBatch()) {
        break;
      }
    }
    if (this.#isIdle()) this.#waiters.settleIdle();
  }

  #sendBatch(): boolean {
    const { maxBatchOps, maxBatchBytes } = this.#opts;
    const ops: PendingOp[] = [];
    let bytes = 0;
    while (ops.length < maxBatchOps) {
      const op = this.#queued.peek();
      if (op === undefined) break;
      if (op.state !== OpState.Queued) {
        this.#queued.shift(); // cancelled while queued
        continue;
      }
      if (!op.ready) break; // still being prepared: what is behind it waits, to keep the order
      if (ops.length > 0 && bytes + op.bytes > maxBatchBytes) break;
      this.#queued.shift();
      op.state = OpState.Sent;
      if (op.onAbort !== undefined) op.signal!.removeEventListener('abort', op.onAbort);
      ops.push(op);
      bytes += op.bytes;
    }
    if (ops.length === 0) return false;
    this.#tasksInFlight += 1;
    this.#inFlight.push(ops);
    const sentAt = performance.now();
    const epoch = this.#checkpoints?.epoch ?? 0;
    this.#thread.run(toBatchTask(ops.map((op) => op.msg), bytes, this.#opts.safeIntegers)).then(
      (reply) => this.#onBatchReply(ops, reply, sentAt, bytes, epoch),
      (err: unknown) => this.#onBatchReply(ops, null, sentAt, bytes, epoch, err),
    );
    return true;
  }

  #onBatchReply(ops: PendingOp[], reply: WriterReply | null, sentAt: number, bytes: number, epoch: number, lostWith?: unknown): void {
    if (this.#aborted) return;
    if (batchChannel.hasSubscribers) batchChannel.publish(batchDiagnostics(this.#hooks.subject() ?? this, ops, reply, sentAt, bytes));
    this.#tasksInFlight -= 1;
    this.#inFlight.splice(this.#inFlight.indexOf(ops), 1);
    let failure: unknown = lostWith;
    if (reply?.kind === 'batch-done') {
      this.#stats.busyRetries += reply.busyRetries;
      this.#stats.lockWaitMs += reply.lockWaitMs;
      this.#stats.walBytes = reply.walBytes;
      if (reply.committed) this.#stats.recordTransaction(reply.transactionOps);
      this.#checkpoints?.noteBatch(reply.committed, reply.walBytes, epoch);
    } else if (reply?.kind === 'failed') {
      failure = errorFromData(reply.error);
    } else if (reply !== null) {
      failure = new Error(`writer answered a batch with ${reply.kind}`);
    }
    if (failure instanceof WorkerExitedError) this.#noteCrash(failure);
    // Queue the next batch before settling this one, so the writer has work while promises resolve.
    this.#pump();
    const now = performance.now();
    this.#stats.rotateWindow(now);
    for (const op of ops) this.#stats.recordLatency(now - op.enqueuedAt);
    this.#pacer.add(batchOutcomes(ops, reply, failure, this.#settleOp));
  }

  /** A slice of answered ops has settled: room in the queue, flushes, idleness. */
  #afterSettling(count: number): void {
    this.#depth -= count;
    this.#admitWaiting();
    this.#checkFlush();
    if (this.#isIdle()) this.#waiters.settleIdle();
  }

  #sendCheckpoint(request: CheckpointRequest | null): void {
    this.#tasksInFlight += 1;
    this.#checkpoints?.noteCheckpoint();
    const done = (reply: WriterReply | null, lostWith?: unknown): void => {
      if (this.#aborted) return;
      this.#tasksInFlight -= 1;
      let failure: unknown = lostWith;
      if (reply?.kind === 'checkpointed') {
        for (const report of reply.reports) {
          this.#stats.checkpoints += 1;
          this.#stats.walBytes = report.walBytesAfter;
          this.#hooks.onCheckpoint(report);
        }
        request?.resolve(reply.reports[reply.reports.length - 1]!);
      } else {
        failure ??= reply?.kind === 'failed' ? errorFromData(reply.error) : new Error(`writer answered a checkpoint with ${reply?.kind}`);
        if (request !== null) request.reject(failure);
        if (failure instanceof WorkerExitedError) this.#noteCrash(failure);
        else if (request === null && !this.#stopped) this.#hooks.onError(failure as Error);
      }
      this.#pump();
    };
    this.#thread.run({ kind: 'checkpoint', mode: request?.mode ?? 'auto' }).then(
      (reply) => done(reply),
      (err: unknown) => done(null, err),
    );
  }

  /** Rejects an op not yet sent (cancelled by its signal, or its preparation failed). */
  #drop(op: PendingOp, reason: unknown): void {
    if (op.state === OpState.Queued) this.#depth -= 1;
    else if (op.state === OpState.Waiting) this.#waitingCount -= 1;
    else return; // already sent: it runs to the end
    if (op.onAbort !== undefined) op.signal!.removeEventListener('abort', op.onAbort);
    this.#settle(op, false, reason);
    this.#schedulePump(); // an op that was holding the ones behind it may be gone
    this.#admitWaiting();
    this.#checkFlush();
  }

  readonly #settleOp = (op: PendingOp, ok: boolean, value: unknown): void => this.#settle(op, ok, value);

  #settle(op: PendingOp, ok: boolean, value: unknown): void {
    if (op.state === OpState.Settled) return; // e.g. already rejected by destroy()
    op.state = OpState.Settled;
    if (ok) {
      this.#stats.opsCommitted += 1;
      op.resolve(value);
    } else {
      this.#stats.opsFailed += 1;
      op.reject(value);
    }
  }

  /** Moves calls waiting for room into the queue while there is room, oldest first. */
  #admitWaiting(): void {
    let admitted = false;
    while (this.#waitingCount > 0 && this.#depth < this.#opts.maxQueue) {
      const op = this.#waiting.shift();
      if (op === undefined) break;
      if (op.state !== OpState.Waiting) continue;
      op.state = OpState.Queued;
      this.#waitingCount -= 1;
      this.#depth += 1;
      this.#queued.push(op);
      admitted = true;
    }
    if (admitted) this.#schedulePump();
  }

  /** Counts a writer crash once (it fails every task the writer had) and reports it. */
  #noteCrash(err: WorkerExitedError): void {
    if (this.#stopped || err.cause === this.#lastCrash) return;
    this.#lastCrash = err.cause;
    this.#stats.writerRestarts += 1;
    this.#hooks.onError(err);
  }

  /** Sequence number of the oldest operation not yet settled, or Infinity. */
  #oldestUnsettled(): number {
    const settling = this.#pacer.oldestSeq();
    if (settling !== Number.POSITIVE_INFINITY) return settling;
    for (const batch of this.#inFlight) for (const op of batch) if (op.state === OpState.Sent) return op.seq;
    for (const fifo of [this.#queued, this.#waiting]) {
      for (let op = fifo.peek(); op !== undefined; op = fifo.peek()) {
        if (op.state === OpState.Queued || op.state === OpState.Waiting) return op.seq;
        fifo.shift(); // settled while queued (cancelled): drop it
      }
    }
    return Number.POSITIVE_INFINITY;
  }

  #checkFlush(): void {
    if (this.#waiters.hasFlushes) this.#waiters.settleFlushes(this.#oldestUnsettled());
  }

  #isIdle(): boolean {
    return this.#tasksInFlight === 0 && this.#checkpointRequests.length === 0 && !this.#pacer.pending && this.#oldestUnsettled() === Number.POSITIVE_INFINITY;
  }
}
