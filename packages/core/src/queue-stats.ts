import { createHistogram } from 'node:perf_hooks';
import type { RecordableHistogram } from 'node:perf_hooks';

/** A snapshot of the queue's counters, from {@link WriteQueue.stats}. */
export interface QueueStats {
  /** Operations accepted, committed (resolved), and failed (rejected for any reason). */
  readonly opsEnqueued: number;
  readonly opsCommitted: number;
  readonly opsFailed: number;
  /**
   * Transactions this queue's operations were committed in, and their sizes in operations. With a
   * shared writer a transaction also holds other processes' operations, and they count in its size.
   */
  readonly transactions: number;
  readonly meanOpsPerTransaction: number;
  readonly maxOpsPerTransaction: number;
  /** Lock retries, and total time spent waiting for the write lock, in ms. */
  readonly busyRetries: number;
  readonly lockWaitMs: number;
  /** Checkpoints run, and the WAL file's size when last seen. */
  readonly checkpoints: number;
  readonly walBytes: number;
  /** Operations accepted and not yet settled (queued or in the writer's hands). */
  readonly queueDepth: number;
  /** Calls waiting for room because the queue is full (`onFull: 'wait'`). */
  readonly waitingForRoom: number;
  /** Writer threads that ended unexpectedly. */
  readonly writerRestarts: number;
  /** Reads completed (resolved or rejected), and reader threads running now. */
  readonly reads: number;
  readonly readerThreads: number;
  /**
   * This process's part in a shared writer (`shareWriter: 'auto'`): `'leader'` (its writer thread
   * commits every process's operations), `'follower'` (it sends them to the leader), or `'solo'`
   * (`shareWriter: 'off'`: its own writer thread, taking turns on SQLite's lock).
   */
  readonly role: 'leader' | 'follower' | 'solo';
  /** Times this process had to find a new leader after the one it used went away. */
  readonly leaderChanges: number;
  /** Time from enqueue to settle, in ms, over all settled operations since open. */
  readonly commitLatencyMs: { readonly p50: number; readonly p99: number; readonly max: number };
  /**
   * The same over the recent past only: operations settled in the last 5–10 s (`windowMs` says how
   * long the window is now; `count` how many operations it holds). After a burst, this returns to
   * the steady figures within 10 s, while `commitLatencyMs` keeps the burst for good.
   */
  readonly recentCommitLatencyMs: { readonly p50: number; readonly p99: number; readonly max: number; readonly count: number; readonly windowMs: number };
}

/** Length of each half of the recent-latency window. */
const WINDOW_HALF_MS = 5_000;

/** Mutable counters behind {@link QueueStats}; updated per batch, so the hot path stays cheap. */
export class StatsRecorder {
  opsEnqueued = 0;
  opsCommitted = 0;
  opsFailed = 0;
  transactions = 0;
  opsInTransactions = 0;
  maxOpsPerTransaction = 0;
  busyRetries = 0;
  lockWaitMs = 0;
  checkpoints = 0;
  walBytes = 0;
  writerRestarts = 0;
  reads = 0;
  // Microseconds; HDR histogram in native code, so recording is one cheap call per op.
  readonly #latency: RecordableHistogram = createHistogram();
  // The recent window: two halves; the older one is dropped when a new half starts.
  #current: RecordableHistogram = createHistogram();
  #previous: RecordableHistogram = createHistogram();
  /** Scratch for recentCommitLatencyMs: the two windows merged. */
  readonly #merged: RecordableHistogram = createHistogram();
  #currentSince = performance.now();
  #previousSince = this.#currentSince;

  recordLatency(ms: number): void {
    const us = Math.max(1, Math.round(ms * 1000));
    this.#latency.record(us);
    this.#current.record(us);
  }

  /** Starts a new half of the recent window when the current one is full. Once per batch, not per op. */
  rotateWindow(now: number): void {
    if (now - this.#currentSince < WINDOW_HALF_MS) return;
    // More than a whole window without a batch: both halves are stale.
    const stale = now - this.#currentSince >= 2 * WINDOW_HALF_MS;
    const old = this.#previous;
    this.#previous = stale ? createHistogram() : this.#current;
    this.#previousSince = stale ? now : this.#currentSince;
    old.reset();
    this.#current = old;
    this.#currentSince = now;
  }

  recordTransaction(ops: number): void {
    this.transactions += 1;
    this.opsInTransactions += ops;
    if (ops > this.maxOpsPerTransaction) this.maxOpsPerTransaction = ops;
  }

  snapshot(live: Pick<QueueStats, 'queueDepth' | 'waitingForRoom' | 'readerThreads' | 'role' | 'leaderChanges'>): QueueStats {
    const h = this.#latency;
    const ms = (us: number): number => (h.count === 0 ? 0 : us / 1000);
    return {
      opsEnqueued: this.opsEnqueued,
      opsCommitted: this.opsCommitted,
      opsFailed: this.opsFailed,
      transactions: this.transactions,
      meanOpsPerTransaction: this.transactions === 0 ? 0 : this.opsInTransactions / this.transactions,
      maxOpsPerTransaction: this.maxOpsPerTransaction,
      busyRetries: this.busyRetries,
      lockWaitMs: this.lockWaitMs,
      checkpoints: this.checkpoints,
      walBytes: this.walBytes,
      writerRestarts: this.writerRestarts,
      reads: this.reads,
      ...live,
      commitLatencyMs: { p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max) },
      recentCommitLatencyMs: this.#recent(),
    };
  }

  #recent(): QueueStats['recentCommitLatencyMs'] {
    const now = performance.now();
    this.rotateWindow(now);
    // One histogram reused: creating one per call made stats() cost ~50 µs (2-core machine kind).
    const r = this.#merged;
    r.reset();
    r.add(this.#previous);
    r.add(this.#current);
    const windowMs = now - this.#previousSince;
    if (r.count === 0) return { p50: 0, p99: 0, max: 0, count: 0, windowMs };
    return { p50: r.percentile(50) / 1000, p99: r.percentile(99) / 1000, max: r.max / 1000, count: r.count, windowMs };
  }
}
