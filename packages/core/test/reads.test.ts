import { monitorEventLoopDelay } from 'node:perf_hooks';
import { expect, test } from 'vitest';
import { InvalidOptionError, InvalidParamsError, InvalidSqlError, QueueClosedError, SqliteError } from '@litescribe/core';
import { openTestQueue } from './helpers.js';

const INSERT = 'INSERT INTO messages(session_id, seq, content) VALUES (?, ?, ?)';
// A read that keeps a reader thread busy for a while: SQLite counts to n.
const SLOW = 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ?) SELECT count(*) AS n FROM c';

test('all() and get() return rows from a reader thread, with positional or named params', async () => {
  const { q } = await openTestQueue();
  await q.batch([
    { sql: INSERT, params: ['s1', 1, 'a'] },
    { sql: INSERT, params: ['s1', 2, 'b'] },
    { sql: INSERT, params: ['s2', 1, 'c'] },
  ]);
  await expect(q.all('SELECT content FROM messages WHERE session_id = ? ORDER BY seq', ['s1'])).resolves.toEqual([{ content: 'a' }, { content: 'b' }]);
  await expect(q.get('SELECT content FROM messages WHERE session_id = :s', { s: 's2' })).resolves.toEqual({ content: 'c' });
  await expect(q.get('SELECT content FROM messages WHERE session_id = ?', ['none'])).resolves.toBeUndefined();
  expect(q.stats().reads).toBe(3);
});

test('read-your-writes: a read issued after a write resolved sees it, under a steady write load', async () => {
  const { q } = await openTestQueue({ readers: 2 });
  let stop = false;
  const background = (async () => {
    for (let i = 0; !stop; i++) await Promise.all(Array.from({ length: 50 }, (_, j) => q.run(INSERT, ['bg', i, `bg-${i}-${j}`])));
  })();
  const missed: number[] = [];
  for (let i = 0; i < 200; i++) {
    await q.run(INSERT, ['me', i, `me-${i}`]);
    const row = await q.get<{ n: number }>('SELECT count(*) AS n FROM messages WHERE session_id = ?', ['me']);
    if (row?.n !== i + 1) missed.push(i);
  }
  stop = true;
  await background;
  expect(missed).toEqual([]);
});

test('many reads in flight spread over the reader threads', async () => {
  const { q } = await openTestQueue({ readers: 3 });
  const reads = Array.from({ length: 12 }, () => q.get<{ n: number }>(SLOW, [300_000]));
  await new Promise((r) => setTimeout(r, 100));
  expect(q.stats().readerThreads).toBe(3);
  for (const r of await Promise.all(reads)) expect(r).toEqual({ n: 300_000 });
});

test('a slow read does not block the caller event loop', async () => {
  const { q } = await openTestQueue();
  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  const started = performance.now();
  const row = await q.get<{ n: number }>(SLOW, [1_000_000]);
  const took = performance.now() - started;
  delay.disable();
  expect(row).toEqual({ n: 1_000_000 });
  console.log(`slow read took ${took.toFixed(0)} ms; event-loop delay max ${(delay.max / 1e6).toFixed(1)} ms`);
  expect(delay.max / 1e6).toBeLessThan(took / 2);
});

test('reads: writing SQL, bad SQL and bad params are typed errors; reads after close reject', async () => {
  const { q } = await openTestQueue();
  await expect(q.all("INSERT INTO messages(session_id, content) VALUES ('x', 'y')")).rejects.toBeInstanceOf(InvalidSqlError);
  await expect(q.get("UPDATE messages SET content = 'z'")).rejects.toMatchObject({ code: 'ERR_INVALID_SQL', message: expect.stringContaining('run()') });
  await expect(q.all('DELETE FROM messages RETURNING id')).rejects.toBeInstanceOf(InvalidSqlError);
  await expect(q.all('SELECT 1; SELECT 2')).rejects.toBeInstanceOf(InvalidSqlError);
  await expect(q.all('BEGIN')).rejects.toBeInstanceOf(InvalidSqlError);
  await expect(q.all('SELECT * FROM no_such_table')).rejects.toMatchObject({ code: 'SQLITE_ERROR' });
  await expect(q.all('SELECT * FROM no_such_table')).rejects.toBeInstanceOf(SqliteError);
  await expect(q.all('SELECT ?', [true as never])).rejects.toBeInstanceOf(InvalidParamsError);
  await expect(q.all('SELECT ?, ?', [1])).rejects.toMatchObject({ code: 'ERR_INVALID_PARAMS' });
  expect(await q.all('SELECT count(*) AS n FROM messages')).toEqual([{ n: 0 }]);
  await q.close();
  await expect(q.all('SELECT 1')).rejects.toBeInstanceOf(QueueClosedError);
});

test('close() lets reads already issued finish', async () => {
  const { q } = await openTestQueue();
  const slow = q.get<{ n: number }>(SLOW, [300_000]);
  await new Promise((r) => setTimeout(r, 20));
  await q.close();
  await expect(slow).resolves.toEqual({ n: 300_000 });
});

test('readers: 0 turns reads off', async () => {
  const { q } = await openTestQueue({ readers: 0 });
  await expect(q.all('SELECT 1')).rejects.toBeInstanceOf(InvalidOptionError);
  await expect(q.run(INSERT, ['s', 1, 'still writes'])).resolves.toMatchObject({ changes: 1 });
});

test('BLOBs and bigints cross both threads: a Buffer is written as a BLOB and read back as a Uint8Array', async () => {
  const { q } = await openTestQueue({ setup: 'CREATE TABLE t (b BLOB, n INTEGER)' });
  await q.run('INSERT INTO t VALUES (?, ?)', [Buffer.from('abc'), 2n ** 40n]);
  await q.run('INSERT INTO t VALUES (?, ?)', [new Uint8Array([1, 2, 3]), 7]);
  const rows = await q.all<{ b: Uint8Array; n: number }>('SELECT b, n FROM t ORDER BY rowid');
  expect(rows.map((r) => [Buffer.from(r.b).toString('hex'), r.n])).toEqual([
    ['616263', 2 ** 40],
    ['010203', 7],
  ]);
  expect(rows[0]!.b).toBeInstanceOf(Uint8Array);
});
