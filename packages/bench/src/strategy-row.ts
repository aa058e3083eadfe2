import type { Driven } from './measure/drivers.js';
import type { StrategyResult } from './results.js';

/** Turns what a driver measured into a table row of a throughput suite. */
export function strategyRow(suite: string, name: string, synchronous: 'normal' | 'full', d: Driven, note?: string): StrategyResult {
  return {
    suite,
    name,
    synchronous,
    ops: d.ops,
    seconds: d.seconds,
    opsPerSec: d.ops / d.seconds,
    latency: d.latency,
    loopDelay: d.loopDelay,
    ...(d.cpuUs === undefined ? {} : { cpuUsPerOp: d.cpuUs / d.ops }),
    ...(note === undefined ? {} : { note }),
  };
}
