import type { PendingOp } from './pending-op.js';

/** A committed (or failed) batch whose promises are still to settle, in order. */
export interface SettleJob {
  readonly ops: readonly PendingOp[];
  /** Resolves or rejects `ops[i]` with its outcome. */
  readonly settle: (i: number) => void;
  /** The first op of `ops` not yet settled. */
  next: number;
}

/** What one turn of the caller's event loop may spend on settled promises and what they run. */
const TURN_BUDGET_MS = 8;
const INITIAL_PER_TURN = 128;
const MIN_PER_TURN = 64;
const MAX_PER_TURN = 16_384;
/** Fewer ops in a turn than this say too little about their cost to adjust the budget by. */
const MIN_SAMPLE = 32;
/** Unmarked slices this close together count as one turn (see #slice). */
const QUIET_MS = 1;

/**
 * Settles batches' promises in order, at most a turn's budget of them per turn of the caller's
 * event loop, so that a large batch (or several replies handled back to back) cannot hold the
 * loop for longer than a frame.
 *
 * Why it is needed: settling a promise is cheap, but the caller's code after each `await` runs in
 * the same turn, and Node's MessagePort handles every reply that is waiting before timers get a
 * turn. With the writer replying every few milliseconds, one turn used to settle batch after batch:
 * 24,576 continuations (48 batches of 512) ran in one 164 ms turn when each did 5 µs of work
 * (a probe on the 2-core machine kind; see docs/benchmarks.md for the bench's figures).
 *
 * How much fits in a turn is measured, not guessed: a turn runs from its first settled promise to
 * the `setImmediate` it arms (which runs after the microtasks the promises queued, and after the
 * other replies of that turn), and the next turn's budget is the number of ops that would have
 * taken `TURN_BUDGET_MS` at the cost per op just seen. Whatever does not fit waits for the next turn;
 * timers and I/O run in between.
 */
export class SettlePacer {
  readonly #jobs: SettleJob[] = [];
  readonly #onSettled: (count: number) => void;
  #perTurn = INITIAL_PER_TURN;
  /** A setImmediate is armed to end the current turn. */
  #turnOpen = false;
  #turnStart = 0;
  #turnOps = 0;
  /** When a slice last ran outside a marked turn. */
  #lastSliceAt = Number.NEGATIVE_INFINITY;

  /** `onSettled` runs after each slice with the number of ops it settled. */
  constructor(onSettled: (count: number) => void) {
    this.#onSettled = onSettled;
  }

  /** Whether ops are waiting to be settled. */
  get pending(): boolean {
    return this.#jobs.length > 0;
  }

  /** The most ops the next turn will settle (for the bench and tests). */
  get perTurn(): number {
    return this.#perTurn;
  }

  /** Settles what fits in this turn now; the rest in the turns after, behind earlier jobs. */
  add(job: SettleJob): void {
    this.#jobs.push(job);
    if (this.#jobs.length === 1) this.#slice();
  }

  /** Sequence number of the oldest op still to settle, or Infinity. */
  oldestSeq(): number {
    for (const job of this.#jobs) {
      for (let i = job.next; i < job.ops.length; i++) return job.ops[i]!.seq;
    }
    return Number.POSITIVE_INFINITY;
  }

  /** Settles everything now, budget or not (the queue is being destroyed; outcomes are known). */
  settleAll(): void {
    let count = 0;
    for (const job of this.#jobs.splice(0)) {
      for (let i = job.next; i < job.ops.length; i++) job.settle(i);
      count += job.ops.length - job.next;
    }
    if (count > 0) this.#onSettled(count);
  }

  #slice(): void {
    if (!this.#turnOpen) {
      const now = performance.now();
      // A turn is only marked (a setImmediate armed to find where it ends) once it has something
      // to measure or to hold back. Settling a batch of a few ops costs less than the extra pass
      // through the event loop a setImmediate makes, and a lone awaiting caller's every write
      // paid that pass. Unmarked, ops count toward one window until the pacer has been idle for
      // QUIET_MS: replies that come back to back in one turn still add up to the turn's budget.
      if (now - this.#lastSliceAt > QUIET_MS) {
        this.#turnStart = now;
        this.#turnOps = 0;
      }
      this.#lastSliceAt = now;
    }
    let room = this.#perTurn - this.#turnOps;
    let count = 0;
    while (room > 0 && this.#jobs.length > 0) {
      const job = this.#jobs[0]!;
      const end = Math.min(job.ops.length, job.next + room);
      for (let i = job.next; i < end; i++) job.settle(i);
      count += end - job.next;
      room -= end - job.next;
      job.next = end;
      if (end === job.ops.length) this.#jobs.shift();
    }
    this.#turnOps += count;
    if (!this.#turnOpen && (this.#jobs.length > 0 || this.#turnOps >= MIN_SAMPLE)) {
      this.#turnOpen = true;
      setImmediate(this.#endTurn);
    }
    if (count > 0) this.#onSettled(count);
  }

  readonly #endTurn = (): void => {
    if (this.#turnOps >= MIN_SAMPLE) {
      const msPerOp = (performance.now() - this.#turnStart) / this.#turnOps;
      // At most double per turn: one quick turn (the writer thread and the GC share two cores
      // with this one, so turns of the same size measured 1.4–22 ms) must not open the gates.
      const fits = Math.floor(TURN_BUDGET_MS / Math.max(msPerOp, 1e-6));
      this.#perTurn = Math.max(MIN_PER_TURN, Math.min(MAX_PER_TURN, 2 * this.#perTurn, fits));
    }
    this.#turnOpen = false;
    this.#turnOps = 0;
    this.#turnStart = performance.now();
    this.#lastSliceAt = this.#turnStart;
    if (this.#jobs.length > 0) this.#slice();
  };
}
