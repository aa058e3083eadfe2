import { readFileSync } from 'node:fs';
import { shareAddress } from '@litescribe/writer-worker/link';
import type { BenchContext } from '../bench-context.js';
import { runChild } from '../measure/child.js';
import type { HostileResult } from '../results.js';
import { freshStoreFile, processResult, scenarioArgs } from './multi-process.js';
import type { ScenarioSpec } from './multi-process.js';

/** Resident set size of a process, in bytes (0 once it is gone). */
function rssOf(pid: number): number {
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'))?.[1];
    return kb === undefined ? 0 : Number(kb) * 1024;
  } catch {
    return 0;
  }
}

/**
 * A stranger on the leader's socket (`--only hostile`): a leader and two followers write (paced);
 * after a quiet window of the same length, a process that knows the socket name but not the
 * token (as uid 65534 when the bench runs as root) floods it with junk frames, 1 GiB length
 * prefixes with streamed bodies, and idle connections. Measured: the honest followers' writes in
 * the window before and during the abuse, and the leader process's RSS growth.
 */
export async function hostile(ctx: BenchContext): Promise<HostileResult[]> {
  const windowMs = ctx.smoke ? 1_000 : 4_000;
  const followers = 2;
  ctx.progress(`hostile: 1 leader + ${followers} followers, ${windowMs / 1000} s quiet, then ${windowMs / 1000} s of a stranger's abuse`);
  const path = freshStoreFile(ctx);
  // Paced writers (~4 ms think time, as an agent's writes are), so the machine has room: the rate then
  // shows what the abuse costs the leader, not the stranger's own use of one of the two cores.
  const spec: ScenarioSpec = { processes: followers + 1, variant: 'shared', durationMs: 2 * windowMs + 500, thinkMs: 4 };
  const startAt = Date.now() + 1_500 + followers * 150;
  const quietFrom = startAt + 250;
  const abuseFrom = quietFrom + windowMs;
  const abuseTo = abuseFrom + windowMs;
  const env = { ACK_WINDOWS: `${quietFrom},${abuseFrom};${abuseFrom},${abuseTo}` };
  const leader = runChild('scenario-writer.js', scenarioArgs(spec, path, startAt, 0), env);
  await leader.saw('opened leader');
  const runs = Array.from({ length: followers }, (_, i) => runChild('scenario-writer.js', scenarioArgs(spec, path, startAt, i + 1), env));
  await Promise.all(runs.map((r) => r.saw('opened follower')));
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, abuseFrom - Date.now())));
  const rssBefore = rssOf(leader.pid);
  const asRoot = process.getuid?.() === 0;
  const abuser = runChild('abuser.js', [shareAddress(path).socketName.slice(1), String(abuseTo - Date.now())], {}, asRoot ? 65534 : undefined);
  let rssPeak = rssBefore;
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, rssOf(leader.pid))), 100);
  const abuse = JSON.parse((await abuser.done).find((l) => l.startsWith('{'))!) as { opened: number; cutOff: number };
  clearInterval(sampler);
  const [leaderResult, ...perProcess] = (await Promise.all([leader.done, ...runs.map((r) => r.done)])).map(processResult);
  const failed = [leaderResult!, ...perProcess].reduce((s, p) => s + p.errors, 0);
  const before = perProcess.reduce((s, p) => s + p.inWindows[0]!, 0);
  const during = perProcess.reduce((s, p) => s + p.inWindows[1]!, 0);
  return [
    {
      as: asRoot ? 'uid 65534' : 'this uid, without the token',
      windowMs,
      connections: abuse.opened,
      followerWritesBefore: before,
      followerWritesDuring: during,
      leaderRssGrowthBytes: Math.max(0, rssPeak - rssBefore),
      failedWrites: failed,
      leaderRole: leaderResult!.role,
    },
  ];
}
