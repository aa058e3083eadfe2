import { expect, test } from 'vitest';
import { openTestQueue } from './helpers.js';

const INSERT = 'INSERT INTO messages(session_id, content) VALUES (?, ?)';

test('stats() counts ops, transactions, failures, checkpoints, WAL size, depth and latency', async () => {
  const { q } = await openTestQueue({ checkpointEveryCommits: 2 });
  const empty = q.stats();
  expect(empty).toMatchObject({ opsEnqueued: 0, opsCommitted: 0, opsFailed: 0, transactions: 0, queueDepth: 0 });
  expect(empty.commitLatencyMs).toEqual({ p50: 0, p99: 0, max: 0 });

  const ops = [...Array.from({ length: 300 }, (_, i) => q.run(INSERT, ['s', `m${i}`])), q.run(INSERT, ['s', 'm0'])];
  expect(q.stats().queueDepth).toBe(301);
  await Promise.allSettled(ops);
  for (let i = 0; i < 3; i++) await q.run(INSERT, ['s', `solo${i}`]);
  await q.flush();

  const s = q.stats();
  expect(s.opsEnqueued).toBe(304);
  expect(s.opsCommitted).toBe(303);
  expect(s.opsFailed).toBe(1);
  expect(s.queueDepth).toBe(0);
  expect(s.transactions).toBeGreaterThanOrEqual(4);
  expect(s.maxOpsPerTransaction).toBeGreaterThan(1);
  expect(s.meanOpsPerTransaction).toBeCloseTo(304 / s.transactions, 6);
  expect(s.checkpoints).toBeGreaterThanOrEqual(1);
  expect(s.walBytes).toBeGreaterThan(0);
  expect(s.busyRetries).toBe(0);
  expect(s.commitLatencyMs.p50).toBeGreaterThan(0);
  expect(s.commitLatencyMs.p50).toBeLessThanOrEqual(s.commitLatencyMs.p99);
  expect(s.commitLatencyMs.p99).toBeLessThanOrEqual(s.commitLatencyMs.max);
});
