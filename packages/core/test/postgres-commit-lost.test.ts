// A connection lost while COMMIT is in flight: the writer asks the server (txid_status) what became
// of the transaction and settles every op of it exactly: committed, or NotCommittedError.
import { describe, expect, it } from 'vitest';
import { NotCommittedError, openWriteQueue } from '@litescribe/core';
import type { FaultyProxy } from '@litescribe/pg-cluster';
import type { WriteQueue } from '@litescribe/core';
import { PG_MESSAGES, faultyProxy, freshDatabase, sql, track, useCluster } from './pg-helpers.js';

const pgServer = useCluster();
const INSERT = 'INSERT INTO messages (session_id, content) VALUES ($1, $2)';

/** A fresh database, a queue on it through a {@link faultyProxy}, one row written: 'before'. */
async function throughProxy(): Promise<{ direct: string; proxy: FaultyProxy; q: WriteQueue }> {
  const direct = await freshDatabase(pgServer.cluster);
  await sql(direct, PG_MESSAGES);
  const proxy = await faultyProxy(pgServer.cluster.port);
  const q = track(await openWriteQueue({ url: direct.replace(`:${pgServer.cluster.port}/`, `:${proxy.port}/`), busyDeadlineMs: 5_000 }));
  await q.run(INSERT, ['s', 'before']);
  return { direct, proxy, q };
}

describe('PostgreSQL: COMMIT in flight when the connection is lost', () => {
  it('the server got the COMMIT: every op of the batch resolves as committed, and the rows are there', async () => {
    const { direct, proxy, q } = await throughProxy();
    try {
      proxy.mode = 'cut-after-commit';
      // Five calls in one go: one batch, one transaction, one COMMIT.
      const results = await Promise.all(Array.from({ length: 5 }, (_, i) => q.run(INSERT, ['s', `cut-${i}`])));
      expect(proxy.cuts).toBe(1);
      expect(results).toEqual(Array.from({ length: 5 }, () => expect.objectContaining({ changes: 1 })));
      // Settled from the server's word on the transaction, not by running the batch again.
      expect(q.stats().busyRetries).toBe(0);
      await q.run(INSERT, ['s', 'after']);
      const rows = (await sql<{ content: string }>(direct, 'SELECT content FROM messages ORDER BY id')).map((r) => r.content);
      expect(rows).toEqual(['before', 'cut-0', 'cut-1', 'cut-2', 'cut-3', 'cut-4', 'after']);
    } finally {
      await proxy.close();
    }
  });

  it('the server never got the COMMIT: every op of the batch rejects with NotCommittedError, nothing of it is there, and it can run again', async () => {
    const { direct, proxy, q } = await throughProxy();
    try {
      proxy.mode = 'cut-before-commit';
      const outcomes = await Promise.allSettled(Array.from({ length: 5 }, (_, i) => q.run(INSERT, ['s', `cut-${i}`])));
      expect(proxy.cuts).toBe(1);
      for (const o of outcomes) {
        expect(o.status).toBe('rejected');
        const err = (o as PromiseRejectedResult).reason as NotCommittedError;
        expect(err).toBeInstanceOf(NotCommittedError);
        expect(err.code).toBe('ERR_NOT_COMMITTED');
        expect(err.message).toMatch(/did not commit/);
      }
      expect(q.stats().busyRetries).toBe(0);
      expect((await sql<{ content: string }>(direct, 'SELECT content FROM messages ORDER BY id')).map((r) => r.content)).toEqual(['before']);
      // Safe to run again, and it commits.
      await Promise.all(Array.from({ length: 5 }, (_, i) => q.run(INSERT, ['s', `cut-${i}`])));
      expect((await sql<{ n: number }>(direct, 'SELECT count(*)::int AS n FROM messages'))[0]!.n).toBe(6);
    } finally {
      await proxy.close();
    }
  });
});
