// Every wait on the PostgreSQL server is bounded: a server that accepts and then says nothing (a
// stopped server, a proxy that hangs) holds no operation past busyDeadlineMs and a short margin,
// and nothing acknowledged is lost when it comes back.
import { describe, expect, it } from 'vitest';
import { ServerTimeoutError, ServerUnavailableError, openWriteQueue } from '@litescribe/core';
import { serverPids, startCluster } from '@litescribe/pg-cluster';
import { PG_MESSAGES, faultyProxy, sql, track } from './pg-helpers.js';

const INSERT = 'INSERT INTO messages (session_id, content) VALUES ($1, $2)';
const BOUND_MS = 1_500;
/** What a test allows past the bound before calling it a hang: generous, the machine is shared (the tight figure is the bench's). */
const SLACK_MS = 5_000;

/** How an operation ended and how long it took. */
async function timed(op: Promise<unknown>): Promise<{ outcome: unknown; ms: number }> {
  const started = performance.now();
  const outcome = await op.then(
    () => 'ok',
    (err: unknown) => err,
  );
  return { outcome, ms: performance.now() - started };
}

describe('PostgreSQL: bounded waits', () => {
  it('a stopped server (SIGSTOP of the postmaster and its backends): writes, reads and opens end within the bound; after SIGCONT nothing acknowledged is lost', async () => {
    const cluster = await startCluster();
    let stopped: number[] = [];
    try {
      const url = cluster.url;
      await sql(url, PG_MESSAGES);
      const q = track(await openWriteQueue({ url, busyDeadlineMs: BOUND_MS }));
      const acked: string[] = [];
      for (let i = 0; i < 20; i++) {
        await q.run(INSERT, ['s', `before-${i}`]);
        acked.push(`before-${i}`);
      }
      expect(await q.get('SELECT count(*)::int AS n FROM messages')).toEqual({ n: 20 });

      stopped = serverPids(cluster.dataDir);
      for (const pid of stopped) process.kill(pid, 'SIGSTOP');
      const [write, read, open] = await Promise.all([
        timed(q.run(INSERT, ['s', 'while-stopped'])),
        timed(q.get('SELECT count(*)::int AS n FROM messages')),
        timed(openWriteQueue({ url, busyDeadlineMs: BOUND_MS }).then((other) => other.destroy())),
      ]);
      expect(write.outcome).toBeInstanceOf(ServerUnavailableError);
      expect((write.outcome as Error).message).toMatch(/sent nothing for \d+ ms.*nothing of this operation ran/);
      expect(read.outcome).toBeInstanceOf(ServerTimeoutError);
      expect(open.outcome).toBeInstanceOf(ServerUnavailableError);
      console.log(`stopped server, bound ${BOUND_MS} ms: write ended after ${write.ms.toFixed(0)} ms, read ${read.ms.toFixed(0)} ms, open ${open.ms.toFixed(0)} ms`);
      for (const { ms } of [write, read, open]) expect(ms).toBeLessThan(BOUND_MS + SLACK_MS);

      for (const pid of stopped) process.kill(pid, 'SIGCONT');
      stopped = [];
      // Back: the queue opens a new connection by itself.
      await expect(q.run(INSERT, ['s', 'after'])).resolves.toMatchObject({ changes: 1 });
      const rows = new Set((await sql<{ content: string }>(url, 'SELECT content FROM messages')).map((r) => r.content));
      expect(acked.filter((c) => !rows.has(c))).toEqual([]);
      expect(rows.has('after')).toBe(true);
      // Reported as not run, and not run: its transaction never got a COMMIT.
      expect(rows.has('while-stopped')).toBe(false);
    } finally {
      for (const pid of stopped) process.kill(pid, 'SIGCONT');
      await cluster.remove();
    }
  }, 120_000);

  it('a proxy that accepts and then goes silent: the write and the read end within the bound, and the queue works again once it passes bytes', async () => {
    const cluster = await startCluster();
    const proxy = await faultyProxy(cluster.port);
    try {
      await sql(cluster.url, PG_MESSAGES);
      const url = cluster.url.replace(`:${cluster.port}/`, `:${proxy.port}/`);
      const q = track(await openWriteQueue({ url, busyDeadlineMs: BOUND_MS }));
      await q.run(INSERT, ['s', 'through the proxy']);
      expect(await q.get('SELECT count(*)::int AS n FROM messages')).toEqual({ n: 1 });

      proxy.mode = 'silent';
      const [write, read] = await Promise.all([timed(q.run(INSERT, ['s', 'while-silent'])), timed(q.get('SELECT count(*)::int AS n FROM messages'))]);
      expect(write.outcome).toBeInstanceOf(ServerUnavailableError);
      expect(read.outcome).toBeInstanceOf(ServerTimeoutError);
      console.log(`silent proxy, bound ${BOUND_MS} ms: write ended after ${write.ms.toFixed(0)} ms, read ${read.ms.toFixed(0)} ms`);
      for (const { ms } of [write, read]) expect(ms).toBeLessThan(BOUND_MS + SLACK_MS);
      // Still silent: a new connection through it is accepted and never answered; bounded too.
      const again = await timed(q.run(INSERT, ['s', 'still-silent']));
      expect(again.outcome).toBeInstanceOf(ServerUnavailableError);
      console.log(`silent proxy, a new connection: the write ended after ${again.ms.toFixed(0)} ms`);
      expect(again.ms).toBeLessThan(BOUND_MS + SLACK_MS);

      proxy.mode = 'forward';
      await expect(q.run(INSERT, ['s', 'after'])).resolves.toMatchObject({ changes: 1 });
      expect(await q.get('SELECT count(*)::int AS n FROM messages')).toEqual({ n: 2 });
      const rows = (await sql<{ content: string }>(cluster.url, 'SELECT content FROM messages ORDER BY id')).map((r) => r.content);
      expect(rows).toEqual(['through the proxy', 'after']);
    } finally {
      await proxy.close();
      await cluster.remove();
    }
  }, 120_000);
});
