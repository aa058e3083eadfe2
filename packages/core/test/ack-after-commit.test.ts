import { expect, test } from 'vitest';
import { openTestQueue, reader } from './helpers.js';

test('each promise resolves only once its row is visible to another connection (committed)', async () => {
  const { q, path } = await openTestQueue();
  const db = reader(path);
  const seen = db.prepare('SELECT count(*) AS n FROM messages WHERE content = ?');
  const missing: string[] = [];
  const ops = Array.from({ length: 2000 }, (_, i) => {
    const content = `m${i}`;
    return q.run('INSERT INTO messages(session_id, content) VALUES (?, ?)', ['s1', content]).then((r) => {
      // Runs the moment the promise resolves: a reader must already see the row.
      if ((seen.get(content) as { n: number }).n !== 1) missing.push(content);
      return r;
    });
  });
  const results = await Promise.all(ops);
  expect(missing).toEqual([]);
  expect(results.every((r) => r.changes === 1)).toBe(true);
});

test('run resolves with changes and lastInsertRowid', async () => {
  const { q } = await openTestQueue();
  const first = await q.run('INSERT INTO messages(session_id, content) VALUES (?, ?)', ['s1', 'a']);
  const second = await q.run('INSERT INTO messages(session_id, content) VALUES (:s, :c)', { s: 's1', c: 'b' });
  expect(first).toEqual({ changes: 1, lastInsertRowid: 1 });
  expect(second).toEqual({ changes: 1, lastInsertRowid: 2 });
  const updated = await q.run("UPDATE messages SET session_id = 's2'");
  expect(updated.changes).toBe(2);
});

test('params are copied at call time: mutating the array afterwards changes nothing', async () => {
  const { q, path } = await openTestQueue();
  const params: [string, string] = ['s1', 'original'];
  const pending = q.run('INSERT INTO messages(session_id, content) VALUES (?, ?)', params);
  params[1] = 'mutated';
  await pending;
  expect(reader(path).prepare('SELECT content FROM messages').pluck().all()).toEqual(['original']);
});
