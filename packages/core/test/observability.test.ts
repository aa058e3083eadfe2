import { expect, test } from 'vitest';
import { openTestQueue, spawnFixture } from './helpers.js';

const INSERT = 'INSERT INTO messages(session_id, content) VALUES (?, ?)';

test('stats() counts ops, transactions, failures, checkpoints, WAL size, depth and latency', async () => {
  const { q } = await openTestQueue({ checkpointEveryCommits: 2, checkpointMinIntervalMs: 0 });
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

test('recentCommitLatencyMs forgets a slow burst within 10 s, while commitLatencyMs keeps it', async () => {
  const { q, path } = await openTestQueue({ busyDeadlineMs: 20_000 });
  // A burst that waits 400 ms on another process's lock: every op's latency is high.
  const holder = spawnFixture('lock-holder.mjs', [path, '400']);
  await holder.waitForLine(/^locked$/);
  await Promise.all(Array.from({ length: 50 }, (_, i) => q.run('INSERT INTO messages(session_id, content) VALUES (?, ?)', ['s', `slow${i}`])));
  const during = q.stats();
  expect(during.recentCommitLatencyMs.count).toBe(50);
  expect(during.recentCommitLatencyMs.p99).toBeGreaterThan(100);
  await new Promise((resolve) => setTimeout(resolve, 10_500));
  for (let i = 0; i < 5; i++) await q.run('INSERT INTO messages(session_id, content) VALUES (?, ?)', ['s', `quick${i}`]);
  const after = q.stats();
  expect(after.recentCommitLatencyMs.count).toBe(5);
  expect(after.recentCommitLatencyMs.max).toBeLessThan(during.recentCommitLatencyMs.p99);
  expect(after.recentCommitLatencyMs.windowMs).toBeLessThanOrEqual(10_500);
  expect(after.commitLatencyMs.p99).toBeGreaterThan(100); // since open: the burst is still there
}, 60_000);
