import { createHistogram } from 'node:perf_hooks';
import type { RecordableHistogram } from 'node:perf_hooks';

/** Percentiles of operation latencies, in milliseconds. */
export interface LatencySummary {
  readonly count: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

/** Records latencies into Node's built-in HDR histogram (microsecond resolution). */
export class LatencyRecorder {
  readonly #h: RecordableHistogram = createHistogram();

  recordMs(ms: number): void {
    this.#h.record(Math.max(1, Math.round(ms * 1000)));
  }

  summary(): LatencySummary {
    const h = this.#h;
    if (h.count === 0) return { count: 0, p50: 0, p99: 0, max: 0 };
    return { count: h.count, p50: h.percentile(50) / 1000, p99: h.percentile(99) / 1000, max: h.max / 1000 };
  }
}
