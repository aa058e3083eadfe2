import { expect, it } from 'vitest';
import { spawnFixture } from './helpers.js';
import { PG_MESSAGES, freshDatabase, sql, useCluster } from './pg-helpers.js';

const pgServer = useCluster();

it('two processes (standing in for two machines) write through their own queues to one server: exact counts, each in its order', async () => {
  const url = await freshDatabase(pgServer.cluster);
  await sql(url, PG_MESSAGES);
  const n = 3000;
  const children = ['a', 'b'].map((tag) => spawnFixture('pg-writer.mjs', [url, tag, String(n)]));
  for (const child of children) await expect(child.exited).resolves.toBe(0);
  for (const child of children) {
    const report = JSON.parse(child.lines.find((l) => l.startsWith('{'))!) as { acked: number; transactions: number };
    expect(report.acked).toBe(n);
    expect(report.transactions).toBeLessThan(n / 4); // group commit in each process
  }
  const counts = await sql<{ session_id: string; n: number; distinct_seq: number }>(
    url,
    'SELECT session_id, count(*)::int AS n, count(DISTINCT seq)::int AS distinct_seq FROM messages GROUP BY session_id ORDER BY session_id',
  );
  expect(counts).toEqual([
    { session_id: 'a', n, distinct_seq: n },
    { session_id: 'b', n, distinct_seq: n },
  ]);
  // Each process's writes were committed in the order it issued them (ids follow seq).
  for (const tag of ['a', 'b']) {
    const seqs = (await sql<{ seq: number }>(url, 'SELECT seq FROM messages WHERE session_id = $1 ORDER BY id', [tag])).map((r) => r.seq);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
  }
});

it('the main thread never loads pg or better-sqlite3: a PostgreSQL queue does its protocol work in its own threads', async () => {
  const url = await freshDatabase(pgServer.cluster);
  const child = spawnFixture('main-thread-modules.mjs', [url]);
  await expect(child.exited).resolves.toBe(0);
  const report = JSON.parse(child.lines.find((l) => l.startsWith('{'))!) as { loaded: string[] };
  expect(report.loaded).toEqual([]);
});
