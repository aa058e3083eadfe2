import { setTimeout as sleep } from 'node:timers/promises';
import { isBusyCode } from './error-data.js';
import { jitteredDelay } from './jittered-delay.js';
import type { WriterNotice } from './protocol.js';

/** How the writer waits out a lock held by another connection. */
export interface BusyRetryPolicy {
  /** Give up once this much time has passed since the first attempt. */
  readonly deadlineMs: number;
  /** Smallest and largest pause between attempts. */
  readonly minDelayMs: number;
  readonly maxDelayMs: number;
  readonly onRetry: (notice: WriterNotice) => void;
}

/** Thrown when the lock was still busy at the deadline; `cause` is the last SQLITE_BUSY error. */
export class BusyDeadlineError extends Error {
  override readonly name = 'BusyTimeoutError';
  readonly code = 'ERR_BUSY_TIMEOUT';
  constructor(
    readonly waitedMs: number,
    readonly retries: number,
    cause: unknown,
  ) {
    super(`database still locked after ${Math.round(waitedMs)} ms and ${retries + 1} attempts`, { cause });
  }
}

/** Result of {@link retryWhileBusy}: the value and what it cost to get it. */
export interface Retried<T> {
  readonly value: T;
  readonly retries: number;
  readonly waitedMs: number;
}

/**
 * Calls `attempt` until it does not throw SQLITE_BUSY (matched on the error code, never the text),
 * pausing between tries, until the time deadline.
 *
 * The connection's own busy timeout is 0, so SQLite never sleeps inside `attempt`: SQLite's handler
 * sleeps on a fixed schedule (1, 2, 5 … 100 ms), and writers that all wake on that schedule convoy.
 * The pause here is full jitter over a window that doubles from `minDelayMs` up to `maxDelayMs`, so
 * waiters from different processes spread out; it is an async sleep, so this thread stays free to be
 * terminated.
 */
export async function retryWhileBusy<T>(attempt: () => T, policy: BusyRetryPolicy): Promise<Retried<T>> {
  const started = performance.now();
  let retries = 0;
  for (;;) {
    try {
      const value = attempt();
      return { value, retries, waitedMs: retries === 0 ? 0 : performance.now() - started };
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (!isBusyCode(code)) throw err;
      const waitedMs = performance.now() - started;
      const leftMs = policy.deadlineMs - waitedMs;
      if (leftMs <= 0) throw new BusyDeadlineError(waitedMs, retries, err);
      retries += 1;
      const delayMs = Math.min(leftMs, jitteredDelay(retries, policy.minDelayMs, policy.maxDelayMs));
      policy.onRetry({ kind: 'retry', attempt: retries, delayMs, code: code ?? 'SQLITE_BUSY', waitedMs });
      await sleep(delayMs);
    }
  }
}
