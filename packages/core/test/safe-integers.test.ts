import { join } from 'node:path';
import { expect, test } from 'vitest';
import { InvalidOptionError, openWriteQueue } from '@litescribe/core';
import { tempDir } from './helpers.js';

const BIG = 2n ** 62n + 1n; // past 2^53: a number cannot hold it exactly
const SCHEMA = 'CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v INTEGER)';

test('safeIntegers: rowids and INTEGER columns past 2^53 come back exact, as bigint, from run, batch and reads', async () => {
  const q = await openWriteQueue({ path: join(tempDir(), 's.db'), setup: SCHEMA, safeIntegers: true, shareWriter: 'off' });
  try {
    expect(await q.run('INSERT INTO t (id, v) VALUES (?, ?)', [BIG, BIG + 1n])).toEqual({ changes: 1, lastInsertRowid: BIG });
    // The next rowid SQLite picks is BIG + 1: exact only as a bigint.
    expect((await q.run('INSERT INTO t (v) VALUES (?)', [7])).lastInsertRowid).toBe(BIG + 1n);
    const [a, b] = await q.batch([{ sql: 'INSERT INTO t (v) VALUES (1)' }, { sql: 'INSERT INTO t (v) VALUES (2)' }]);
    expect([a!.lastInsertRowid, b!.lastInsertRowid]).toEqual([BIG + 2n, BIG + 3n]);
    expect(await q.get('SELECT id, v FROM t WHERE id = ?', [BIG])).toEqual({ id: BIG, v: BIG + 1n });
    expect((await q.all('SELECT count(*) AS n FROM t'))[0]).toEqual({ n: 4n });
  } finally {
    await q.close();
  }
});

test('without safeIntegers (the default) the same values come back as numbers; the option is SQLite-only and a boolean', async () => {
  const q = await openWriteQueue({ path: join(tempDir(), 'n.db'), setup: SCHEMA, shareWriter: 'off' });
  try {
    expect(await q.run('INSERT INTO t (id, v) VALUES (?, ?)', [5, 6])).toEqual({ changes: 1, lastInsertRowid: 5 });
    expect(await q.get('SELECT id, v FROM t')).toEqual({ id: 5, v: 6 });
  } finally {
    await q.close();
  }
  await expect(openWriteQueue({ path: join(tempDir(), 'x.db'), safeIntegers: 'yes' as never })).rejects.toBeInstanceOf(InvalidOptionError);
  await expect(openWriteQueue({ url: 'postgres://127.0.0.1:1/x', safeIntegers: true })).rejects.toThrow(/does not apply to PostgreSQL/);
});

test('a shared writer keeps each process its own integer mode: a follower with safeIntegers gets bigints, the leader numbers', async () => {
  const path = join(tempDir(), 'shared.db');
  const leader = await openWriteQueue({ path, setup: SCHEMA });
  const follower = await openWriteQueue({ path, safeIntegers: true });
  try {
    expect([leader.stats().role, follower.stats().role]).toEqual(['leader', 'follower']);
    const [l, f] = await Promise.all([leader.run('INSERT INTO t (id) VALUES (?)', [10]), follower.run('INSERT INTO t (id) VALUES (?)', [BIG])]);
    expect(l.lastInsertRowid).toBe(10);
    expect(f.lastInsertRowid).toBe(BIG);
  } finally {
    await follower.close();
    await leader.close();
  }
});
