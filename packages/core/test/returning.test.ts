// Writes that return rows (INSERT/UPDATE/DELETE … RETURNING): run() and batch() resolve with the
// rows, committed in the same transaction, alone and through a shared writer's follower.
import { expect, test } from 'vitest';
import { openTestQueue } from './helpers.js';

const INSERT_RETURNING = 'INSERT INTO messages(session_id, content) VALUES (?, ?) RETURNING id, content';

for (const role of ['leader or solo', 'follower'] as const) {
  test(`run() and batch() of INSERT/UPDATE/DELETE … RETURNING resolve with the rows (${role})`, async () => {
    const { q: first, path } = await openTestQueue();
    const q = role === 'follower' ? (await openTestQueue({ path })).q : first;
    if (role === 'follower') expect(q.stats().role).toBe('follower');

    const inserted = await q.run(INSERT_RETURNING, ['s', 'hello']);
    expect(inserted).toEqual({ changes: 1, lastInsertRowid: 1, rows: [{ id: 1, content: 'hello' }] });
    await q.run(INSERT_RETURNING, ['s', 'world']);

    const updated = await q.run("UPDATE messages SET content = content || '!' WHERE session_id = ? RETURNING id, content", ['s']);
    expect(updated.changes).toBe(2);
    expect(updated.rows).toEqual([
      { id: 1, content: 'hello!' },
      { id: 2, content: 'world!' },
    ]);

    const [a, b, c] = await q.batch([
      { sql: INSERT_RETURNING, params: ['t', 'in a batch'] },
      { sql: 'INSERT INTO messages(session_id, content) VALUES (?, ?)', params: ['t', 'no rows'] },
      { sql: 'DELETE FROM messages WHERE id = ? RETURNING content', params: [1] },
    ]);
    expect(a).toEqual({ changes: 1, lastInsertRowid: 3, rows: [{ id: 3, content: 'in a batch' }] });
    expect(b).toEqual({ changes: 1, lastInsertRowid: 4 });
    expect(c!.rows).toEqual([{ content: 'hello!' }]);

    // A statement without RETURNING has no rows key; runMany of one with RETURNING resolves totals.
    expect(await q.run('UPDATE messages SET content = content WHERE id = ?', [2])).toEqual({ changes: 1, lastInsertRowid: 4 });
    expect(await q.runMany(INSERT_RETURNING, [['m', 'one'], ['m', 'two']])).toEqual({ changes: 2, lastInsertRowid: 6 });
    expect(await q.all('SELECT id FROM messages ORDER BY id')).toEqual([{ id: 2 }, { id: 3 }, { id: 4 }, { id: 5 }, { id: 6 }]);
  });
}

test('with safeIntegers the returned INTEGER columns and the rowid are bigints', async () => {
  const { q } = await openTestQueue({ safeIntegers: true });
  const r = await q.run(INSERT_RETURNING, ['s', 'big']);
  expect(r).toEqual({ changes: 1, lastInsertRowid: 1n, rows: [{ id: 1n, content: 'big' }] });
});

test('a failing RETURNING write rejects alone and returns nothing', async () => {
  const { q } = await openTestQueue();
  await q.run(INSERT_RETURNING, ['s', 'dup']);
  const [ok, dup] = await Promise.allSettled([q.run(INSERT_RETURNING, ['s', 'fresh']), q.run(INSERT_RETURNING, ['s', 'dup'])]);
  expect(ok).toMatchObject({ status: 'fulfilled', value: { rows: [{ content: 'fresh' }] } });
  expect(dup).toMatchObject({ status: 'rejected', reason: { code: 'SQLITE_CONSTRAINT_UNIQUE' } });
});
