import { monitorEventLoopDelay } from 'node:perf_hooks';

/** How late the main thread's event loop ran timers while a workload ran, in milliseconds. */
export interface LoopDelaySummary {
  readonly p99: number;
  readonly max: number;
}

/**
 * Samples event-loop delay (Node's built-in monitor, 1 ms resolution) for the span of `fn`.
 * A freeze of the main thread shows up as a large max: nothing else can run while it lasts.
 */
export async function withLoopDelay<T>(fn: () => Promise<T>): Promise<{ value: T; loopDelay: LoopDelaySummary }> {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  try {
    const value = await fn();
    return { value, loopDelay: summarize(h) };
  } finally {
    h.disable();
  }
}

function summarize(h: ReturnType<typeof monitorEventLoopDelay>): LoopDelaySummary {
  if (h.count === 0) return { p99: 0, max: 0 };
  // The monitor reports total delay including its own 1 ms period; subtract it.
  const ms = (ns: number): number => Math.max(0, ns / 1e6 - 1);
  return { p99: ms(h.percentile(99)), max: ms(h.max) };
}
