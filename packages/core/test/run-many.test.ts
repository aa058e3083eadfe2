import { join } from 'node:path';
import { expect, test } from 'vitest';
import { InvalidParamsError, SqliteError, openWriteQueue } from '@litescribe/core';
import { openTestQueue, reader, tempDir } from './helpers.js';

const INSERT = 'INSERT INTO messages(session_id, seq, content) VALUES (?, ?, ?)';
const rowsOf = (n: number, tag = 's'): Array<[string, number, string]> => Array.from({ length: n }, (_, i) => [tag, i, `${tag}-${i}`]);

test('runMany commits 50,000 rows as one op, in order with the calls around it', async () => {
  const { q, path } = await openTestQueue();
  const before = q.run(INSERT, ['before', -1, 'before']);
  const many = q.runMany(INSERT, rowsOf(50_000));
  const after = q.run(INSERT, ['after', -1, 'after']); // called later: must commit after every row
  const [b, m, a] = await Promise.all([before, many, after]);
  expect(m.changes).toBe(50_000);
  expect(Number(m.lastInsertRowid)).toBe(Number(b.lastInsertRowid) + 50_000);
  expect(Number(a.lastInsertRowid)).toBe(Number(m.lastInsertRowid) + 1);
  const db = reader(path);
  expect(db.prepare("SELECT count(*) FROM messages WHERE session_id = 's'").pluck().get()).toBe(50_000);
  expect(q.stats().opsCommitted).toBe(3);
});

test('runMany is atomic: one failing row rejects the call, naming the row, and none of its rows stay', async () => {
  const { q, path } = await openTestQueue();
  await q.run(INSERT, ['x', 0, 'dup']);
  const rows = rowsOf(40_000);
  rows[30_000] = ['s', 30_000, 'dup'];
  const err = await q.runMany(INSERT, rows).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(SqliteError);
  expect((err as SqliteError).code).toBe('SQLITE_CONSTRAINT_UNIQUE');
  expect((err as Error).message).toMatch(/row 30000/);
  await q.run(INSERT, ['after', 1, 'after']);
  expect(reader(path).prepare('SELECT count(*) FROM messages').pluck().get()).toBe(2);
});

test('runMany: a bad row is a typed error naming it; a cancelled call gives way to the ones behind it', async () => {
  const { q } = await openTestQueue();
  const rows: unknown[] = rowsOf(5_000);
  rows[4_321] = ['s', 1, { not: 'bindable' }];
  const bad = await q.runMany(INSERT, rows as never).catch((e: unknown) => e);
  expect(bad).toBeInstanceOf(InvalidParamsError);
  expect((bad as Error).message).toMatch(/rows\[4321\]/);
  await expect(q.runMany(INSERT, [])).rejects.toBeInstanceOf(InvalidParamsError);
  const controller = new AbortController();
  const cancelled = q.runMany(INSERT, rowsOf(20_000, 'c'), { signal: controller.signal });
  const behind = q.run(INSERT, ['behind', 0, 'behind']);
  controller.abort(new Error('changed my mind'));
  await expect(cancelled).rejects.toThrow('changed my mind');
  await expect(behind).resolves.toMatchObject({ changes: 1 });
  expect(await q.get("SELECT count(*) AS n FROM messages WHERE session_id = 'c'")).toEqual({ n: 0 });
});

test('runMany through a shared writer: a follower\'s rows commit via the leader', async () => {
  const path = join(tempDir(), 'shared.db');
  const leader = await openWriteQueue({ path, setup: 'CREATE TABLE IF NOT EXISTS t (a INTEGER, b TEXT)' });
  const follower = await openWriteQueue({ path });
  try {
    expect(follower.stats().role).toBe('follower');
    const res = await follower.runMany('INSERT INTO t VALUES (?, ?)', Array.from({ length: 3_000 }, (_, i) => [i, `r${i}`]));
    expect(res.changes).toBe(3_000);
    expect(await leader.get('SELECT count(*) AS n, sum(a) AS s FROM t')).toEqual({ n: 3_000, s: (2_999 * 3_000) / 2 });
  } finally {
    await follower.close();
    await leader.close();
  }
});
