import Database from 'better-sqlite3';
import type { BenchContext } from '../bench-context.js';
import { runChild } from '../measure/child.js';
import type { FailoverResult } from '../results.js';
import { freshStoreFile, processResult, scenarioArgs } from './multi-process.js';
import type { ScenarioSpec } from './multi-process.js';

/**
 * A leader killed with SIGKILL under load (`--only failover`): one process opens the file first
 * and leads, the followers write back to back through it, and a second into the run the leader is
 * killed. Measured per follower: the time from the kill to its next acknowledged write (a new
 * leader elected, the file recovered, its next batch committed). Every acknowledged write must be
 * in the file; writes the leader held when it died are rejected as outcome-unknown, never resent.
 */
export async function failover(ctx: BenchContext): Promise<FailoverResult[]> {
  const results: FailoverResult[] = [];
  const followers = ctx.smoke ? 2 : 4;
  for (let round = 0; round < (ctx.smoke ? 1 : 3); round++) {
    ctx.progress(`failover: round ${round + 1}, 1 leader + ${followers} followers, SIGKILL of the leader`);
    const path = freshStoreFile(ctx);
    const spec: ScenarioSpec = { processes: followers + 1, variant: 'shared', durationMs: ctx.smoke ? 1_200 : 2_500, thinkMs: 0 };
    const startAt = Date.now() + 1_500 + followers * 150;
    const leader = runChild('scenario-writer.js', scenarioArgs(spec, path, startAt, 0));
    const leaderExit = leader.done.then(
      () => 'exited',
      () => 'killed',
    );
    await leader.saw('opened leader');
    const runs = Array.from({ length: followers }, (_, i) => runChild('scenario-writer.js', scenarioArgs(spec, path, startAt, i + 1)));
    await Promise.all(runs.map((r) => r.saw('opened follower')));
    const killAt = startAt + (ctx.smoke ? 500 : 1_000);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, killAt - Date.now())));
    const killedAt = performance.timeOrigin + performance.now();
    leader.kill('SIGKILL');
    if ((await leaderExit) !== 'killed') throw new Error('failover: the leader exited before it was killed');
    const perProcess = (await Promise.all(runs.map((r) => r.done))).map(processResult);
    const waits = perProcess
      // The first pause that ends after the kill (a reply already on its way may land just after it).
      .map((p) => p.gaps.find(([, to]) => to >= killedAt))
      .map((gap) => (gap === undefined ? 0 : gap[1] - killedAt))
      .sort((a, b) => a - b);
    const db = new Database(path, { readonly: true });
    const rows = db.prepare("SELECT count(*) FROM messages WHERE session_id <> 'proc-0'").pluck().get() as number;
    const integrity = db.pragma('integrity_check', { simple: true }) as string;
    db.close();
    const acknowledged = perProcess.reduce((s, p) => s + p.ops, 0);
    const inDoubt = perProcess.reduce((s, p) => s + p.inDoubt, 0);
    if (rows < acknowledged || rows > acknowledged + inDoubt) {
      throw new Error(`failover: ${acknowledged} acknowledged and ${inDoubt} in-doubt follower writes, but ${rows} rows in the file`);
    }
    const otherErrors = perProcess.reduce((s, p) => s + p.errors - p.inDoubt, 0);
    if (otherErrors > 0) throw new Error(`failover: ${otherErrors} follower writes failed with something other than WorkerExitedError`);
    results.push({ followers, worstMs: waits[waits.length - 1]!, medianMs: waits[Math.floor(waits.length / 2)]!, inDoubt, acknowledged, rows, integrity });
  }
  return results;
}
