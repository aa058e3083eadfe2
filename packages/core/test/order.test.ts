import { expect, test } from 'vitest';
import { openTestQueue, reader } from './helpers.js';

test('10 000 concurrent operations commit in the order they were enqueued', async () => {
  const { q, path } = await openTestQueue({ maxBatchOps: 64 });
  const n = 10_000;
  const ops: Array<Promise<unknown>> = [];
  for (let i = 0; i < n; i++) {
    // Mix the three kinds so ordering holds across them, not only for run().
    if (i % 10 === 3) ops.push(q.call('appendMessage', { sessionId: 's', seq: i, content: `m${i}` }));
    else if (i % 10 === 7) ops.push(q.batch([{ sql: 'INSERT INTO messages(session_id, seq, content) VALUES (?, ?, ?)', params: ['s', i, `m${i}`] }]));
    else ops.push(q.run('INSERT INTO messages(session_id, seq, content) VALUES (?, ?, ?)', ['s', i, `m${i}`]));
  }
  await Promise.all(ops);
  const seqs = reader(path).prepare('SELECT seq FROM messages ORDER BY id').pluck().all() as number[];
  expect(seqs).toHaveLength(n);
  expect(seqs).toEqual(Array.from({ length: n }, (_, i) => i));
  expect(q.stats().transactions).toBeGreaterThan(1);
});

test('a batch is never split across transactions, even when larger than maxBatchOps or the byte budget', async () => {
  const { q, path } = await openTestQueue({ maxBatchOps: 2, maxBatchBytes: 200 });
  const statements = Array.from({ length: 50 }, (_, i) => ({
    sql: 'INSERT INTO messages(session_id, seq, content) VALUES (?, ?, ?)',
    params: ['b', i, `batch-${i}-${'z'.repeat(20)}`],
  }));
  const before = q.stats().transactions;
  const [results] = await Promise.all([q.batch(statements), q.run('INSERT INTO messages(session_id, content) VALUES (?, ?)', ['after', 'after'])]);
  expect(results).toHaveLength(50);
  expect(results.map((r) => r.lastInsertRowid)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
  expect(reader(path).prepare("SELECT count(*) FROM messages WHERE session_id = 'b'").pluck().get()).toBe(50);
  // The batch filled its own transaction; the run after it went in the next one.
  expect(q.stats().transactions - before).toBe(2);
});
