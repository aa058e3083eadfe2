import pg from 'pg';
import { describe, expect, it } from 'vitest';
import {
  InvalidOptionError,
  InvalidParamsError,
  InvalidSqlError,
  NotSupportedError,
  PostgresError,
  ProcedureError,
  openWriteQueue,
} from '@litescribe/core';
import { PG_MESSAGES, PG_PROCEDURES, freshDatabase, sql, track, useCluster } from './pg-helpers.js';

const pgServer = useCluster();

async function openPg(extra: Record<string, unknown> = {}) {
  const url = await freshDatabase(pgServer.cluster);
  const q = track(await openWriteQueue({ url, setup: PG_MESSAGES, procedures: PG_PROCEDURES, ...extra }));
  return { q, url };
}

describe('PostgreSQL: the same write queue', () => {
  it('acknowledges a write only once another connection can see it (ack after commit)', async () => {
    const { q, url } = await openPg();
    // A connection of its own, polling while writes are in flight: every acknowledged row must
    // already be visible when its promise resolves.
    const watcher = new pg.Client({ connectionString: url, pipeline: true });
    await watcher.connect();
    try {
      const checks: Array<Promise<void>> = [];
      for (let i = 0; i < 300; i++) {
        const content = `m${i}`;
        checks.push(
          q.run('INSERT INTO messages (session_id, content) VALUES ($1, $2)', ['s', content]).then(async (res) => {
            expect(res.changes).toBe(1);
            const seen = await watcher.query('SELECT 1 FROM messages WHERE content = $1', [content]);
            expect(seen.rowCount).toBe(1);
          }),
        );
      }
      await Promise.all(checks);
    } finally {
      await watcher.end();
    }
  });

  it('keeps order: operations apply in the order they were called', async () => {
    const { q, url } = await openPg();
    const writes: Array<Promise<unknown>> = [];
    for (let i = 0; i < 1000; i++) {
      writes.push(q.run('INSERT INTO messages (session_id, seq, content) VALUES ($1, $2, $3)', ['s', i, `c${i}`]));
      if (i % 100 === 99) writes.push(q.run('UPDATE messages SET seq = seq + 0 WHERE seq = $1', [i]));
    }
    writes.push(q.run("INSERT INTO messages (session_id, content) VALUES ('last', 'last')"));
    await Promise.all(writes);
    const rows = await sql<{ seq: number | null }>(url, 'SELECT seq FROM messages ORDER BY id');
    expect(rows.map((r) => r.seq)).toEqual([...Array.from({ length: 1000 }, (_, i) => i), null]);
  });

  it('commits many concurrent writes in far fewer transactions (group commit)', async () => {
    const { q, url } = await openPg();
    const before = await sql<{ n: string }>(url, 'SELECT xact_commit AS n FROM pg_stat_database WHERE datname = current_database()');
    await Promise.all(Array.from({ length: 2000 }, (_, i) => q.run('INSERT INTO messages (session_id, content) VALUES ($1, $2)', ['s', `g${i}`])));
    const stats = q.stats();
    expect(stats.opsCommitted).toBe(2000);
    expect(stats.transactions).toBeLessThan(200);
    expect(stats.maxOpsPerTransaction).toBeGreaterThan(10);
    expect((await sql<{ n: number }>(url, 'SELECT count(*)::int AS n FROM messages'))[0]!.n).toBe(2000);
    // The server agrees: far fewer commits than writes (its counter also holds this test's own queries).
    await new Promise((resolve) => setTimeout(resolve, 700)); // pg_stat is reported at most every 500 ms
    const after = await sql<{ n: string }>(url, 'SELECT xact_commit AS n FROM pg_stat_database WHERE datname = current_database()');
    expect(Number(after[0]!.n) - Number(before[0]!.n)).toBeLessThan(400);
  });

  it('rejects only the failing operation; the rest of its transaction commits (failure isolation)', async () => {
    const { q, url } = await openPg();
    const results = await Promise.allSettled([
      q.run('INSERT INTO messages (session_id, content) VALUES ($1, $2)', ['s', 'a']),
      q.run('INSERT INTO messages (session_id, content) VALUES ($1, $2)', ['s', 'a']), // duplicate
      q.run('INSERT INTO messages (session_id, content) VALUES ($1, $2)', ['s', 'b']),
      q.run('INSERT INTO nowhere VALUES ($1)', [1]), // no such table
      q.batch([
        { sql: 'INSERT INTO messages (session_id, content) VALUES ($1, $2)', params: ['s', 'c'] },
        { sql: 'INSERT INTO messages (session_id, content) VALUES ($1, $2)', params: ['s', 'b'] }, // duplicate: whole batch undone
      ]),
      q.batch([
        { sql: 'INSERT INTO messages (session_id, content) VALUES ($1, $2)', params: ['s', 'd'] },
        { sql: 'INSERT INTO messages (session_id, content) VALUES ($1, $2)', params: ['s', 'e'] },
      ]),
      q.call('writeThenThrow', { content: 'f' }),
      q.call('addMessage', { session: 's', content: 'g' }),
      q.run('INSERT INTO messages (session_id, content) VALUES ($1, $2)', ['s', 'h']),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected', 'rejected', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    const dup = (results[1] as PromiseRejectedResult).reason as PostgresError;
    expect(dup).toBeInstanceOf(PostgresError);
    expect(dup.code).toBe('23505');
    expect(dup.detail).toMatch(/already exists/);
    expect(((results[3] as PromiseRejectedResult).reason as PostgresError).code).toBe('42P01');
    expect(((results[4] as PromiseRejectedResult).reason as PostgresError).code).toBe('23505');
    expect((results[6] as PromiseRejectedResult).reason).toBeInstanceOf(ProcedureError);
    expect(typeof (results[7] as PromiseFulfilledResult<number>).value).toBe('number');
    const rows = await sql<{ content: string }>(url, 'SELECT content FROM messages ORDER BY id');
    expect(rows.map((r) => r.content)).toEqual(['a', 'b', 'd', 'e', 'g', 'h']);
    expect(q.stats().transactions).toBe(1);
  });

  it('resolves RETURNING rows with run(); changes is the row count; reads go to the read pool and are read-only', async () => {
    const { q } = await openPg();
    const res = await q.run('INSERT INTO messages (session_id, content) VALUES ($1, $2), ($1, $3) RETURNING content', ['s', 'x', 'y']);
    expect(res).toMatchObject({ changes: 2, lastInsertRowid: 0, rows: [{ content: 'x' }, { content: 'y' }] });
    expect(await q.run('UPDATE messages SET seq = 1')).toEqual({ changes: 2, lastInsertRowid: 0 });
    expect(await q.all('SELECT content FROM messages WHERE seq = $1 ORDER BY content', [1])).toEqual([{ content: 'x' }, { content: 'y' }]);
    expect(await q.get('SELECT count(*) AS n FROM messages')).toEqual({ n: '2' }); // int8 arrives as a string
    expect(await q.get('SELECT content FROM messages WHERE false')).toBeUndefined();
    await expect(q.all('DELETE FROM messages RETURNING id')).rejects.toBeInstanceOf(InvalidSqlError);
    expect((await q.all('SELECT count(*)::int AS n FROM messages'))[0]).toEqual({ n: 2 });
    expect(await q.all('SELECT content, seq FROM messages ORDER BY content', [], { rowMode: 'array' })).toEqual([['x', 1], ['y', 1]]);
    // iterate() pages with $n placeholders after the query's own.
    await q.batch(Array.from({ length: 25 }, (_, i) => ({ sql: 'INSERT INTO messages (session_id, seq, content) VALUES ($1, $2, $3)', params: ['it', i, `it${i}`] })));
    const seqs: number[] = [];
    for await (const row of q.iterate<{ seq: number }>('SELECT id, seq FROM messages WHERE session_id = $1', ['it'], { pageSize: 10, key: 'id' })) seqs.push(row.seq);
    expect(seqs).toEqual(Array.from({ length: 25 }, (_, i) => i));
    // runMany: one atomic op on PostgreSQL too.
    const many = await q.runMany('INSERT INTO messages (session_id, seq, content) VALUES ($1, $2, $3)', Array.from({ length: 3_000 }, (_, i) => ['many', i, `many${i}`]));
    expect(many).toEqual({ changes: 3_000, lastInsertRowid: 0 });
    const dupRows = Array.from({ length: 100 }, (_, i) => ['many2', i, i === 50 ? 'many7' : `many2-${i}`]);
    await expect(q.runMany('INSERT INTO messages (session_id, seq, content) VALUES ($1, $2, $3)', dupRows)).rejects.toMatchObject({ code: '23505' });
    expect(await q.get("SELECT count(*)::int AS n FROM messages WHERE session_id = 'many2'")).toEqual({ n: 0 });
  });

  it('gives typed errors for bad input, and the queue stays usable', async () => {
    const { q, url } = await openPg();
    await expect(q.run('INSERT INTO messages (session_id, content) VALUES (:s, :c)', { s: 'a', c: 'b' } as never)).rejects.toBeInstanceOf(InvalidParamsError);
    await expect(q.run('COMMIT')).rejects.toBeInstanceOf(InvalidSqlError);
    await expect(q.run('  -- a comment\n begin')).rejects.toBeInstanceOf(InvalidSqlError);
    await expect(q.run("INSERT INTO messages (session_id, content) VALUES ('s', 'z'); DELETE FROM messages")).rejects.toBeInstanceOf(InvalidSqlError);
    const syntax = await q.run('INSRT INTO messages VALUES (1)').catch((err: unknown) => err);
    expect(syntax).toBeInstanceOf(PostgresError);
    expect((syntax as PostgresError).code).toBe('42601');
    await expect(q.run('INSERT INTO messages (session_id, content) VALUES ($1, $2)', ['only one'])).rejects.toBeInstanceOf(PostgresError);
    await expect(q.checkpoint()).rejects.toBeInstanceOf(NotSupportedError);
    await expect(q.backup('/tmp/never-written.db')).rejects.toThrow(/NotSupported|pg_dump/);
    await expect(q.backup('/tmp/never-written.db')).rejects.toBeInstanceOf(NotSupportedError);
    await expect(q.call('noSuchProcedure')).rejects.toThrow(/unknown procedure/);
    // Still usable, and nothing half-done was left behind.
    await q.run('INSERT INTO messages (session_id, content) VALUES ($1, $2)', ['s', 'after']);
    expect(await sql(url, 'SELECT content FROM messages')).toEqual([{ content: 'after' }]);
  });

  it('refuses options that only mean something to SQLite, and a path together with a url', async () => {
    const url = pgServer.cluster.url;
    for (const bad of [{ synchronous: 'full' }, { walSoftLimitBytes: 1 << 20 }, { shareWriter: 'off' }, { checkpointEveryCommits: 5 }, { path: '/tmp/x.db' }]) {
      await expect(openWriteQueue({ url, ...bad } as never)).rejects.toBeInstanceOf(InvalidOptionError);
    }
    await expect(openWriteQueue({ url: 'mysql://localhost/x' })).rejects.toThrow(/postgres:\/\//);
    await expect(openWriteQueue({ path: '/tmp/x.db', isolation: 'serializable' })).rejects.toThrow(/PostgreSQL only/);
    // A procedures module that does not load is the option's fault, and no thread is left behind.
    await expect(openWriteQueue({ url, procedures: '/nonexistent/procedures.mjs' })).rejects.toBeInstanceOf(InvalidOptionError);
  });

  it('closes cleanly: everything accepted commits, later calls reject', async () => {
    const { q, url } = await openPg();
    const writes = Array.from({ length: 500 }, (_, i) => q.run('INSERT INTO messages (session_id, content) VALUES ($1, $2)', ['s', `k${i}`]));
    await q.close();
    await Promise.all(writes);
    await expect(q.run("INSERT INTO messages (session_id, content) VALUES ('s', 'late')")).rejects.toThrow(/closed/);
    expect((await sql<{ n: number }>(url, 'SELECT count(*)::int AS n FROM messages'))[0]!.n).toBe(500);
    // The writer's and readers' connections are gone.
    const left = await sql(url, "SELECT 1 FROM pg_stat_activity WHERE application_name LIKE 'litescribe-%' AND datname = current_database()");
    expect(left).toEqual([]);
  });
});
