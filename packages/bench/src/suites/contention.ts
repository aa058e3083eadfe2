import type { BenchContext } from '../bench-context.js';
import type { ScenarioResult } from '../results.js';
import { runScenario } from './multi-process.js';
import type { RetryPolicy } from './multi-process.js';

/**
 * The evidence behind the default lock-retry policy (docs/contention.md): the seed's scenario with
 * 2, 8 and 16 processes, hardly any think time so they fight for the lock, once per policy, plus
 * SQLite's own busy handler on the main thread as the baseline.
 */
export const POLICIES: readonly RetryPolicy[] = [
  { label: 'constant 1 ms poll', minMs: 1, maxMs: 1 },
  { label: 'jitter 1–4 ms, window doubling (default)', minMs: 1, maxMs: 4 },
  { label: 'jitter 1–20 ms, window doubling', minMs: 1, maxMs: 20 },
  { label: 'jitter 1–100 ms, window doubling', minMs: 1, maxMs: 100 },
  { label: 'jitter 20–150 ms, window doubling', minMs: 20, maxMs: 150 },
];

export async function contention(ctx: BenchContext): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = [];
  const durationMs = ctx.smoke ? 800 : 3_000;
  for (const processes of ctx.smoke ? [2] : [2, 8, 16]) {
    results.push(await runScenario(ctx, { processes, variant: 'before', durationMs, thinkMs: 1 }));
    for (const retry of POLICIES) results.push(await runScenario(ctx, { processes, variant: 'after', durationMs, thinkMs: 1, retry }));
  }
  return results;
}
