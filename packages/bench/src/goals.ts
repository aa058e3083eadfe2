import type { BenchResults, GoalResult } from './results.js';

const MiB = 1024 * 1024;

/** The benchmark goals of the harness, judged on figures from one run. Never asserted in tests. */
export function judgeGoals(r: Omit<BenchResults, 'goals'>): GoalResult[] {
  const goals: GoalResult[] = [];
  const strategy = (sync: string, name: string) => r.strategies.find((s) => s.synchronous === sync && s.name === name);
  for (const sync of ['normal', 'full'] as const) {
    const batched = strategy(sync, 'litescribe batched, maxBatchOps 512');
    const perWrite = strategy(sync, 'litescribe, maxBatchOps 1 (per-write commits)');
    // The default batch size, and the largest: the raw limit commits 1000 rows a transaction.
    for (const size of [512, 4096]) {
      const row = strategy(sync, `litescribe batched, maxBatchOps ${size}`);
      if (row?.ratioToLimit !== undefined) {
        goals.push({ goal: `batched (maxBatchOps ${size}) ≥ 0.8x raw limit, synchronous ${sync}`, measured: `${row.ratioToLimit.toFixed(2)}x`, met: row.ratioToLimit >= 0.8 });
      }
    }
    if (batched && perWrite) {
      const ratio = batched.opsPerSec / perWrite.opsPerSec;
      const want = sync === 'normal' ? 5 : 50;
      goals.push({ goal: `batched vs per-write commits through the queue ≥ ${want}x, synchronous ${sync}`, measured: `${ratio.toFixed(1)}x`, met: ratio >= want });
    }
  }
  const paced = strategy('normal', 'litescribe batched, paced at 50% of peak');
  if (paced) {
    goals.push({
      goal: 'main thread at half of peak: event-loop delay p99 < 2 ms, max < 16 ms',
      measured: `p99 ${paced.loopDelay.p99.toFixed(2)} ms, max ${paced.loopDelay.max.toFixed(1)} ms`,
      met: paced.loopDelay.p99 < 2 && paced.loopDelay.max < 16,
    });
  }
  if (r.roundTrip) {
    goals.push({
      goal: 'one awaiting caller: p50 round trip ≤ 1.3x a bare thread round trip',
      measured: `${r.roundTrip.queueP50Ms.toFixed(3)} ms vs ${r.roundTrip.bareEchoP50Ms.toFixed(3)} ms = ${r.roundTrip.ratio.toFixed(2)}x`,
      met: r.roundTrip.ratio <= 1.3,
    });
  }
  const biggest = [...r.scenarios].filter((s) => s.variant === 'after').sort((a, b) => b.processes - a.processes)[0];
  if (biggest) {
    const p99 = Math.max(...biggest.perProcess.map((p) => p.latency.p99));
    const max = Math.max(...biggest.perProcess.map((p) => p.latency.max));
    const freeze = Math.max(...biggest.perProcess.map((p) => p.loopDelayMax));
    goals.push({
      goal: `${biggest.processes} processes: 0 errors, p99 < 50 ms, max < 250 ms, freeze < 16 ms, WAL peak < 16 MiB`,
      measured: `${biggest.totalErrors} errors, worst p99 ${p99.toFixed(1)} ms, max ${max.toFixed(0)} ms, freeze ${freeze.toFixed(1)} ms, WAL ${(biggest.walPeakBytes / MiB).toFixed(1)} MiB`,
      met: biggest.totalErrors === 0 && p99 < 50 && max < 250 && freeze < 16 && biggest.walPeakBytes < 16 * MiB,
    });
  }
  const wal = r.walReader.find((w) => w.policy === 'litescribe');
  if (wal) {
    const ratio = wal.walPeakBytes / wal.softLimitBytes;
    goals.push({ goal: 'WAL peak ≤ 2x the soft limit under a never-idle reader', measured: `${ratio.toFixed(2)}x`, met: ratio <= 2 });
  }
  return goals;
}
