import { describe, expect, it } from 'vitest';
import { BusyTimeoutError, NotCommittedError, ServerUnavailableError, WorkerExitedError, openWriteQueue } from '@litescribe/core';
import type { RetryEvent } from '@litescribe/core';
import { startCluster } from '@litescribe/pg-cluster';
import { PG_MESSAGES, PG_PROCEDURES, freshDatabase, sql, track, useCluster } from './pg-helpers.js';

const pgServer = useCluster();

describe('PostgreSQL: failures', () => {
  it('retries serialization failures (40001) of two SERIALIZABLE writers until every increment commits once', async () => {
    const url = await freshDatabase(pgServer.cluster);
    await sql(url, 'CREATE TABLE counter (id int PRIMARY KEY, v int NOT NULL)');
    await sql(url, 'INSERT INTO counter VALUES (1, 0)');
    const open = () => openWriteQueue({ url, isolation: 'serializable', procedures: PG_PROCEDURES, busyDeadlineMs: 60_000, busyRetryMaxMs: 20 });
    const a = track(await open());
    const b = track(await open());
    const retries: RetryEvent[] = [];
    for (const q of [a, b]) q.on('retry', (event) => retries.push(event));
    // Each increment reads the counter and writes it back plus one, in JavaScript: two concurrent
    // serializable transactions doing that conflict, and only a whole-batch retry keeps it exact.
    const calls: Array<Promise<unknown>> = [];
    for (let round = 0; round < 20; round++) {
      for (const q of [a, b]) for (let i = 0; i < 5; i++) calls.push(q.call('increment'));
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await Promise.all(calls);
    expect((await sql<{ v: number }>(url, 'SELECT v FROM counter'))[0]!.v).toBe(200);
    expect(a.stats().busyRetries + b.stats().busyRetries).toBeGreaterThan(0);
    expect(retries.some((r) => r.code === '40001')).toBe(true);
  });

  it('bounds a wait on a row lock by busyDeadlineMs: BusyTimeoutError, nothing applied, then it works again', async () => {
    const url = await freshDatabase(pgServer.cluster);
    await sql(url, 'CREATE TABLE counter (id int PRIMARY KEY, v int NOT NULL)');
    await sql(url, 'INSERT INTO counter VALUES (1, 0)');
    const q = track(await openWriteQueue({ url, busyDeadlineMs: 300 }));
    const pg = (await import('pg')).default;
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    try {
      // Another session keeps the row locked for longer than the deadline.
      await holder.query('BEGIN');
      await holder.query('UPDATE counter SET v = 100 WHERE id = 1');
      const started = performance.now();
      const err = await q.run('UPDATE counter SET v = v + 1 WHERE id = 1').then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(BusyTimeoutError);
      expect(performance.now() - started).toBeLessThan(10_000);
      await holder.query('ROLLBACK');
      expect((await sql<{ v: number }>(url, 'SELECT v FROM counter'))[0]!.v).toBe(0);
      await expect(q.run('UPDATE counter SET v = v + 1 WHERE id = 1')).resolves.toMatchObject({ changes: 1 });
      expect((await sql<{ v: number }>(url, 'SELECT v FROM counter'))[0]!.v).toBe(1);
    } finally {
      await holder.end();
    }
  });

  it('survives a server restart under load: no acknowledged write lost, ops in doubt rejected, the queue recovers', async () => {
    const cluster = await startCluster();
    try {
      const url = cluster.url;
      const q = track(await openWriteQueue({ url, setup: PG_MESSAGES, busyDeadlineMs: 30_000 }));
      const acked: string[] = [];
      const inDoubt: string[] = [];
      const notRun: string[] = [];
      const other: unknown[] = [];
      let stop = false;
      // 16 writers, each awaiting its writes one after another, until told to stop.
      const writers = Array.from({ length: 16 }, async (_, w) => {
        for (let i = 0; !stop; i++) {
          const content = `w${w}-${i}`;
          try {
            await q.run('INSERT INTO messages (session_id, content) VALUES ($1, $2)', [`w${w}`, content]);
            acked.push(content);
          } catch (err) {
            if (err instanceof WorkerExitedError) inDoubt.push(content);
            // Not run, or its COMMIT was lost and the server said it did not commit.
            else if (err instanceof ServerUnavailableError || err instanceof NotCommittedError) notRun.push(content);
            else other.push(err);
          }
        }
      });
      // Restart once writes are being acknowledged: wait for them, not for a fixed time.
      for (const until = Date.now() + 20_000; acked.length < 100 && Date.now() < until; ) await new Promise((resolve) => setTimeout(resolve, 50));
      const ackedBefore = acked.length;
      await cluster.restart('fast');
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      stop = true;
      await Promise.all(writers);
      console.log(`restart under load: ${acked.length} acknowledged, ${notRun.length} rejected as not run or not committed, ${inDoubt.length} in doubt`);
      expect(other).toEqual([]);
      expect(ackedBefore).toBeGreaterThan(0);
      // Writes went on after the restart (the queue reconnected on its own).
      expect(acked.length).toBeGreaterThan(ackedBefore);
      const rows = new Set((await sql<{ content: string }>(url, 'SELECT content FROM messages')).map((r) => r.content));
      const lost = acked.filter((c) => !rows.has(c));
      expect(lost).toEqual([]);
      // What was rejected as "not run" is not there; what is in doubt may or may not be.
      expect(notRun.filter((c) => rows.has(c))).toEqual([]);
      // Nothing extra: every row is one that was acknowledged or in doubt.
      const known = new Set([...acked, ...inDoubt]);
      expect([...rows].filter((c) => !known.has(c))).toEqual([]);
      await expect(q.run("INSERT INTO messages (session_id, content) VALUES ('after', 'after')")).resolves.toMatchObject({ changes: 1 });
      expect(await q.get("SELECT content FROM messages WHERE content = 'after'")).toEqual({ content: 'after' });
    } finally {
      await cluster.remove();
    }
  });

  it('fails fast with ServerUnavailableError when the server is down at open, and recovers once it is back later', async () => {
    const cluster = await startCluster();
    try {
      await cluster.stop();
      const started = performance.now();
      const err = await openWriteQueue({ url: cluster.url }).then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(ServerUnavailableError);
      expect((err as Error).message).toMatch(/ECONNREFUSED/);
      expect(performance.now() - started).toBeLessThan(10_000);

      await cluster.start();
      const q = track(await openWriteQueue({ url: cluster.url, setup: PG_MESSAGES, busyDeadlineMs: 400 }));
      await q.run("INSERT INTO messages (session_id, content) VALUES ('s', 'one')");
      await cluster.stop();
      // Down for longer than busyDeadlineMs: a typed error, not a hang, and nothing ran.
      await expect(q.run("INSERT INTO messages (session_id, content) VALUES ('s', 'two')")).rejects.toBeInstanceOf(ServerUnavailableError);
      await expect(q.get('SELECT 1 AS one')).rejects.toBeInstanceOf(ServerUnavailableError);
      await cluster.start();
      await q.run("INSERT INTO messages (session_id, content) VALUES ('s', 'three')");
      expect((await sql<{ content: string }>(cluster.url, 'SELECT content FROM messages ORDER BY id')).map((r) => r.content)).toEqual(['one', 'three']);
      expect(await q.get('SELECT count(*)::int AS n FROM messages')).toEqual({ n: 2 });
    } finally {
      await cluster.remove();
    }
  });
});
