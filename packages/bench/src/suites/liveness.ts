import Database from 'better-sqlite3';
import type { BenchContext } from '../bench-context.js';
import { runChild } from '../measure/child.js';
import type { LivenessResult } from '../results.js';
import { freshStoreFile, processResult, scenarioArgs } from './multi-process.js';
import type { ScenarioSpec } from './multi-process.js';

/**
 * A leader stopped under load (`--only liveness`): the leader and its followers write back to back,
 * a second into the run the leader gets SIGSTOP (as Ctrl-Z would), and SIGCONT some seconds later.
 * Measured: each follower's slowest write (it must not wait on the stopped leader past its bound),
 * the writes acknowledged while the leader was stopped, and after SIGCONT that nothing
 * acknowledged is missing, nothing is in the file twice, and no second process ever led.
 */
export async function liveness(ctx: BenchContext): Promise<LivenessResult[]> {
  const results: LivenessResult[] = [];
  const followers = ctx.smoke ? 2 : 4;
  const rounds = ctx.smoke ? [{ stoppedMs: 1_500, busyDeadlineMs: 2_000 }] : [{ stoppedMs: 10_000, busyDeadlineMs: 20_000 }, { stoppedMs: 10_000, busyDeadlineMs: 4_000 }];
  for (const { stoppedMs, busyDeadlineMs } of rounds) {
    ctx.progress(`liveness: 1 leader + ${followers} followers, leader stopped ${stoppedMs / 1000} s, busyDeadlineMs ${busyDeadlineMs}`);
    const path = freshStoreFile(ctx);
    const loadMs = ctx.smoke ? 500 : 1_000;
    const spec: ScenarioSpec = { processes: followers + 1, variant: 'shared', durationMs: loadMs + stoppedMs + (ctx.smoke ? 1_000 : 3_000), thinkMs: 0 };
    const startAt = Date.now() + 1_500 + followers * 150;
    const stopAt = startAt + loadMs;
    const contAt = stopAt + stoppedMs;
    const env = { BUSY_DEADLINE_MS: String(busyDeadlineMs), ACK_WINDOWS: `${stopAt},${contAt}` };
    const leader = runChild('scenario-writer.js', scenarioArgs(spec, path, startAt, 0), env);
    await leader.saw('opened leader');
    const runs = Array.from({ length: followers }, (_, i) => runChild('scenario-writer.js', scenarioArgs(spec, path, startAt, i + 1), env));
    await Promise.all(runs.map((r) => r.saw('opened follower')));
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, stopAt - Date.now())));
    leader.kill('SIGSTOP');
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, contAt - Date.now())));
    leader.kill('SIGCONT');
    const [leaderResult, ...perProcess] = (await Promise.all([leader.done, ...runs.map((r) => r.done)])).map(processResult);
    const db = new Database(path, { readonly: true });
    const rowsOf = db.prepare('SELECT count(*) FROM messages WHERE session_id = ?').pluck();
    const integrity = db.pragma('integrity_check', { simple: true }) as string;
    let rows = 0;
    let lost = 0;
    let duplicates = 0;
    perProcess.forEach((p, i) => {
      const n = rowsOf.get(`proc-${i + 1}`) as number;
      rows += n;
      lost += Math.max(0, p.ops - n);
      duplicates += Math.max(0, n - p.ops - p.inDoubt);
    });
    db.close();
    const otherErrors = perProcess.reduce((s, p) => s + p.errors - p.inDoubt - p.busy, 0);
    if (otherErrors > 0) throw new Error(`liveness: ${otherErrors} follower writes failed with something other than WorkerExitedError or BusyTimeoutError: ${perProcess.find((p) => p.firstError)?.firstError}`);
    results.push({
      followers,
      stoppedMs,
      busyDeadlineMs,
      slowestWriteMs: Math.max(...perProcess.map((p) => p.latency.max)),
      ackedWhileStopped: perProcess.reduce((s, p) => s + p.inWindows[0]!, 0),
      inDoubt: perProcess.reduce((s, p) => s + p.inDoubt, 0),
      busy: perProcess.reduce((s, p) => s + p.busy, 0),
      acknowledged: perProcess.reduce((s, p) => s + p.ops, 0),
      rows,
      lost,
      duplicates,
      leaders: [leaderResult!, ...perProcess].filter((p) => p.roles.includes('leader')).length,
      integrity,
    });
  }
  return results;
}
