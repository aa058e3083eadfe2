import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { LatencyRecorder } from './latency-recorder.js';
import type { LatencySummary } from './latency-recorder.js';
import { withLoopDelay } from './loop-delay.js';
import type { LoopDelaySummary } from './loop-delay.js';

/** What a driver measured. */
export interface Driven {
  readonly ops: number;
  readonly seconds: number;
  readonly latency: LatencySummary;
  readonly loopDelay: LoopDelaySummary;
  /** CPU time of this whole process (every thread: the caller's, the writer's) over the measurement, in µs. */
  readonly cpuUs?: number;
}

/** Runs `measure` and adds the CPU time every thread of this process spent meanwhile (`process.cpuUsage()`). */
export async function withCpu<T extends Driven>(measure: () => Promise<T>): Promise<T> {
  const before = process.cpuUsage();
  const d = await measure();
  const used = process.cpuUsage(before);
  return { ...d, cpuUs: used.user + used.system };
}

/**
 * Open loop for asynchronous writers: issue `n` writes, `chunk` per macrotask, never awaiting one
 * before issuing the next, with at most `maxOutstanding` unsettled (a caller with its own bound).
 * Latency is issue → settle, so it includes queueing.
 */
export async function driveOpenLoop(n: number, chunk: number, maxOutstanding: number, issue: (i: number) => Promise<unknown>): Promise<Driven> {
  const latency = new LatencyRecorder();
  const started = performance.now();
  const { value: seconds, loopDelay } = await withLoopDelay(async () => {
    const inFlight = new InFlight(maxOutstanding);
    for (let i = 0; i < n; ) {
      for (const end = Math.min(n, i + chunk); i < end; i++) {
        await inFlight.room();
        const t0 = performance.now();
        inFlight.track(issue(i), () => latency.recordMs(performance.now() - t0));
      }
      await yieldToLoop();
    }
    await inFlight.drained();
    return (performance.now() - started) / 1000;
  });
  return { ops: n, seconds, latency: latency.summary(), loopDelay };
}

/**
 * Counts unsettled writes without keeping their promises: holding hundreds of thousands of settled
 * promises in an array until the end would make the harness itself the main thread's biggest
 * source of garbage-collection pauses, and those pauses would show up as the library's loop delay.
 */
class InFlight {
  #count = 0;
  #failure: unknown = null;
  #wake: (() => void) | null = null;

  constructor(readonly max: number) {}

  room(): Promise<void> | void {
    if (this.#count < this.max) return;
    return new Promise<void>((resolve) => (this.#wake = resolve));
  }

  track(p: Promise<unknown>, onDone: () => void): void {
    this.#count += 1;
    p.then(onDone, (err: unknown) => (this.#failure ??= err)).finally(() => {
      this.#count -= 1;
      const wake = this.#wake;
      if (wake !== null && (this.#count < this.max || this.#count === 0)) {
        this.#wake = null;
        wake();
      }
    });
  }

  async drained(): Promise<void> {
    while (this.#count > 0) await new Promise<void>((resolve) => (this.#wake = resolve));
    if (this.#failure !== null) throw this.#failure;
  }
}

/**
 * Synchronous writer on the main thread (raw better-sqlite3): `chunk` writes per macrotask, so the
 * event-loop monitor sees each chunk as one freeze. `write(i)` returns true when its row is durable
 * (committed); rows not yet committed get their latency when a later write commits them.
 */
export async function driveSync(n: number, chunk: number, write: (i: number) => boolean): Promise<Driven> {
  const latency = new LatencyRecorder();
  const started = performance.now();
  const { value: seconds, loopDelay } = await withLoopDelay(async () => {
    const pending: number[] = [];
    for (let i = 0; i < n; ) {
      for (const end = Math.min(n, i + chunk); i < end; i++) {
        pending.push(performance.now());
        if (write(i)) {
          const now = performance.now();
          for (const t0 of pending) latency.recordMs(now - t0);
          pending.length = 0;
        }
      }
      await yieldToLoop();
    }
    return (performance.now() - started) / 1000;
  });
  return { ops: n, seconds, latency: latency.summary(), loopDelay };
}

/**
 * Paced open loop: issue writes at `rate` per second for `seconds`, in 1 ms ticks. Shows how
 * responsive the main thread stays at a given load (the goal is measured at half of peak).
 */
export async function drivePaced(rate: number, seconds: number, issue: (i: number) => Promise<unknown>): Promise<Driven> {
  const latency = new LatencyRecorder();
  const started = performance.now();
  const { value, loopDelay } = await withLoopDelay(async () => {
    const inFlight = new InFlight(Number.POSITIVE_INFINITY);
    let issued = 0;
    const total = Math.round(rate * seconds);
    while (issued < total) {
      const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate));
      for (; issued < due; issued++) {
        const t0 = performance.now();
        inFlight.track(issue(issued), () => latency.recordMs(performance.now() - t0));
      }
      await new Promise((r) => setTimeout(r, 1));
    }
    await inFlight.drained();
    return { ops: issued, seconds: (performance.now() - started) / 1000 };
  });
  return { ...value, latency: latency.summary(), loopDelay };
}
