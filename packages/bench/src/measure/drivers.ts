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
    let outstanding = 0;
    let wake: (() => void) | null = null;
    const all: Array<Promise<unknown>> = [];
    for (let i = 0; i < n; ) {
      for (const end = Math.min(n, i + chunk); i < end; i++) {
        while (outstanding >= maxOutstanding) await new Promise<void>((r) => (wake = r));
        const t0 = performance.now();
        outstanding += 1;
        all.push(
          issue(i).then(() => {
            latency.recordMs(performance.now() - t0);
            outstanding -= 1;
            wake?.();
            wake = null;
          }),
        );
      }
      await yieldToLoop();
    }
    await Promise.all(all);
    return (performance.now() - started) / 1000;
  });
  return { ops: n, seconds, latency: latency.summary(), loopDelay };
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
    const all: Array<Promise<unknown>> = [];
    let issued = 0;
    const total = Math.round(rate * seconds);
    while (issued < total) {
      const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate));
      for (; issued < due; issued++) {
        const t0 = performance.now();
        all.push(issue(issued).then(() => latency.recordMs(performance.now() - t0)));
      }
      await new Promise((r) => setTimeout(r, 1));
    }
    await Promise.all(all);
    return { ops: issued, seconds: (performance.now() - started) / 1000 };
  });
  return { ...value, latency: latency.summary(), loopDelay };
}
