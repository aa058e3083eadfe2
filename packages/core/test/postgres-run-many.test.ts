// runMany on PostgreSQL: a plain INSERT of placeholders runs as one set-based statement (unnest of
// one array per column), atomically, values exactly as a statement per row would store them;
// anything else still runs a statement per row.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openWriteQueue } from '@litescribe/core';
import { startCluster } from '@litescribe/pg-cluster';
import type { PgCluster } from '@litescribe/pg-cluster';
import { freshDatabase, sql, track } from './pg-helpers.js';

// pg_stat_statements counts each statement's calls: how the rows went is seen on the server.
let cluster: PgCluster;
beforeAll(async () => {
  cluster = await startCluster({ shared_preload_libraries: 'pg_stat_statements' });
}, 120_000);
afterAll(async () => {
  await cluster?.remove();
});

const TYPES = `CREATE TABLE things (
  id bigserial PRIMARY KEY, name text NOT NULL UNIQUE, n int, big bigint, flag boolean,
  doc jsonb, raw bytea, at timestamptz, price numeric(10,2), note varchar(20) DEFAULT 'none')`;

/** Calls and rows of statements whose text matches `like`, from pg_stat_statements. */
async function statements(url: string, like: string): Promise<{ calls: number; rows: number }> {
  const [r] = await sql<{ calls: string | null; rows: string | null }>(url, 'SELECT sum(calls) AS calls, sum(rows) AS rows FROM pg_stat_statements WHERE query LIKE $1', [like]);
  return { calls: Number(r?.calls ?? 0), rows: Number(r?.rows ?? 0) };
}

async function prepared(): Promise<string> {
  const url = await freshDatabase(cluster);
  await sql(url, 'CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
  await sql(url, TYPES);
  await sql(url, 'SELECT pg_stat_statements_reset()');
  return url;
}

describe('PostgreSQL: runMany', () => {
  it('a plain INSERT of 20,000 rows is one statement on the server, and every value reads back as a statement per row stores it', async () => {
    const url = await prepared();
    const q = track(await openWriteQueue({ url }));
    const rows = Array.from({ length: 20_000 }, (_, i) => [
      `thing-${i}`,
      i % 7 === 0 ? null : i,
      BigInt(i) * 1_000_000_007n,
      i % 2, // 1/0: the bindable values are SQLite's on PostgreSQL too; a boolean column takes them
      JSON.stringify({ i, tags: ['a', 'b'], quote: 'say "hi", {x}' }),
      Buffer.from([i & 255, 0, 255]),
      new Date(Date.UTC(2026, 10, 29, 0, 0, i % 60)).toISOString(),
      (i / 4).toFixed(2),
    ]);
    const insert = 'INSERT INTO things (name, n, big, flag, doc, raw, at, price) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)';
    await expect(q.runMany(insert, rows)).resolves.toEqual({ changes: 20_000, lastInsertRowid: 0 });
    expect(await statements(url, '%unnest%')).toEqual({ calls: 1, rows: 20_000 });

    // The same values through run(), a statement each, for comparison.
    for (const i of [0, 1, 7, 19_999]) await q.run(insert, [`single-${i}`, ...rows[i]!.slice(1)]);
    const read = async (name: string): Promise<Record<string, unknown>> =>
      (await sql(url, "SELECT n, big::text, flag, doc, encode(raw, 'hex') AS raw, at, price::text, note FROM things WHERE name = $1", [name]))[0]!;
    for (const i of [0, 1, 7, 19_999]) expect(await read(`thing-${i}`)).toEqual(await read(`single-${i}`));
    expect(await read('thing-7')).toMatchObject({ n: null, doc: { i: 7, tags: ['a', 'b'], quote: 'say "hi", {x}' }, raw: '0700ff', note: 'none' });
  });

  it('placeholders in another order, ON CONFLICT and RETURNING after VALUES: still one statement, the right columns, changes as inserted', async () => {
    const url = await prepared();
    const q = track(await openWriteQueue({ url }));
    await q.run('INSERT INTO things (name) VALUES ($1)', ['taken']);
    const rows = [[1, 'one'], [2, 'taken'], [3, 'three']];
    const result = await q.runMany('INSERT INTO things (n, name) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING RETURNING id', rows.map(([n, name]) => [n, name]));
    expect(result.changes).toBe(2);
    expect(await sql(url, 'SELECT name, n FROM things ORDER BY name')).toEqual([
      { name: 'one', n: 1 },
      { name: 'taken', n: null },
      { name: 'three', n: 3 },
    ]);
    const swapped = await q.runMany('INSERT INTO things (name, n) VALUES ($2, $1)', [[10, 'ten'], [11, 'eleven']]);
    expect(swapped.changes).toBe(2);
    expect(await sql(url, "SELECT n FROM things WHERE name IN ('ten', 'eleven') ORDER BY n")).toEqual([{ n: 10 }, { n: 11 }]);
    expect((await statements(url, '%unnest%')).calls).toBe(2);
  });

  it('atomic: one bad row rejects the call with its SQLSTATE and none of its rows stay; the queue goes on', async () => {
    const url = await prepared();
    const q = track(await openWriteQueue({ url }));
    const rows = Array.from({ length: 1_000 }, (_, i) => [i === 600 ? 'dup' : `row-${i}`, i]);
    rows[900] = ['dup', 900];
    await expect(q.runMany('INSERT INTO things (name, n) VALUES ($1, $2)', rows)).rejects.toMatchObject({ code: '23505' });
    expect(await sql(url, 'SELECT count(*)::int AS n FROM things')).toEqual([{ n: 0 }]);
    await expect(q.runMany('INSERT INTO things (name, n) VALUES ($1, $2)', [['ok', 1]])).resolves.toMatchObject({ changes: 1 });
  });

  it('statements of another shape run a statement per row, and a column whose type changed is looked up again', async () => {
    const url = await prepared();
    const q = track(await openWriteQueue({ url }));
    await q.runMany('INSERT INTO things (name, n) VALUES ($1, $2)', [['a', 1], ['b', 2]]);
    // UPDATE, a cast on a placeholder: per row.
    const updated = await q.runMany('UPDATE things SET n = n + $1 WHERE name = $2', [[10, 'a'], [20, 'b']]);
    expect(updated.changes).toBe(2);
    await q.runMany('INSERT INTO things (name, n) VALUES ($1, $2::int)', [['c', 3]]);
    expect(await sql(url, 'SELECT name, n FROM things ORDER BY name')).toEqual([
      { name: 'a', n: 11 },
      { name: 'b', n: 22 },
      { name: 'c', n: 3 },
    ]);
    expect((await statements(url, '%unnest%')).calls).toBe(1);
    // n becomes text under the queue's feet: its cached element type is stale once, then learned again.
    await sql(url, 'ALTER TABLE things ALTER COLUMN n TYPE text');
    await q.runMany('INSERT INTO things (name, n) VALUES ($1, $2)', [['d', 'four'], ['e', 'five']]);
    await q.runMany('INSERT INTO things (name, n) VALUES ($1, $2)', [['f', 'six']]);
    expect(await sql(url, "SELECT name, n FROM things WHERE name IN ('d', 'e', 'f') ORDER BY name")).toEqual([
      { name: 'd', n: 'four' },
      { name: 'e', n: 'five' },
      { name: 'f', n: 'six' },
    ]);
  });
});
