import { expect, test } from 'vitest';
import { openTestQueue, reader } from './helpers.js';

const INSERT = 'INSERT INTO messages(session_id, content) VALUES (?, ?)';

test('operations queued together share transactions, capped at maxBatchOps', async () => {
  const { q, path } = await openTestQueue({ maxBatchOps: 100 });
  await Promise.all(Array.from({ length: 3000 }, (_, i) => q.run(INSERT, ['s', `m${i}`])));
  const s = q.stats();
  expect(s.opsCommitted).toBe(3000);
  expect(s.maxOpsPerTransaction).toBe(100);
  // 3000 ops at most 100 per transaction: 30 if every batch was full; far fewer than 3000.
  expect(s.transactions).toBeGreaterThanOrEqual(30);
  expect(s.transactions).toBeLessThan(100);
  expect(s.meanOpsPerTransaction).toBeCloseTo(3000 / s.transactions, 6);
  expect((reader(path).prepare('SELECT count(*) AS n FROM messages').get() as { n: number }).n).toBe(3000);
});

test('a lone operation on an idle queue commits in its own transaction without waiting for company', async () => {
  const { q } = await openTestQueue();
  for (let i = 0; i < 5; i++) {
    const before = q.stats().transactions;
    await q.run(INSERT, ['s', `lone${i}`]);
    expect(q.stats().transactions).toBe(before + 1);
  }
  expect(q.stats().maxOpsPerTransaction).toBe(1);
});

test('the byte budget splits batches before maxBatchOps is reached', async () => {
  const { q } = await openTestQueue({ maxBatchOps: 512, maxBatchBytes: 10_000 });
  const big = 'x'.repeat(1_000);
  await Promise.all(Array.from({ length: 100 }, (_, i) => q.run(INSERT, ['s', `${big}${i}`])));
  // Each op is ~1 KB of params plus its SQL, so at most 9 fit in 10 000 bytes.
  expect(q.stats().maxOpsPerTransaction).toBeLessThanOrEqual(9);
  expect(q.stats().maxOpsPerTransaction).toBeGreaterThan(1);
});

test('one operation larger than the byte budget still goes, alone', async () => {
  const { q, path } = await openTestQueue({ maxBatchBytes: 100 });
  await q.run(INSERT, ['s', 'y'.repeat(5_000)]);
  expect((reader(path).prepare('SELECT length(content) AS n FROM messages').get() as { n: number }).n).toBe(5_000);
});
