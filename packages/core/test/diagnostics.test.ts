import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { afterEach, expect, test } from 'vitest';
import { DIAGNOSTICS_CHANNELS } from '@litescribe/core';
import type { BatchDiagnostics, CheckpointDiagnostics, RetryDiagnostics } from '@litescribe/core';
import { openTestQueue, spawnFixture } from './helpers.js';

const INSERT = 'INSERT INTO messages(session_id, content) VALUES (?, ?)';
const subscriptions: Array<[string, (message: unknown) => void]> = [];
function listen<T>(name: string): T[] {
  const seen: T[] = [];
  const fn = (message: unknown): void => void seen.push(message as T);
  subscribe(name, fn);
  subscriptions.push([name, fn]);
  return seen;
}
afterEach(() => {
  for (const [name, fn] of subscriptions.splice(0)) unsubscribe(name, fn);
});

test('litescribe:batch reports every batch: its ops, wait and commit time, and whether it committed', async () => {
  const { q } = await openTestQueue();
  const batches = listen<BatchDiagnostics>(DIAGNOSTICS_CHANNELS.batch);
  await Promise.allSettled([
    ...Array.from({ length: 1000 }, (_, i) => q.run(INSERT, ['s', `m${i}`])),
    q.run(INSERT, ['s', 'm1']), // duplicate content: fails alone
  ]);
  const mine = batches.filter((b) => b.queue === q);
  expect(mine.length).toBe(q.stats().transactions);
  expect(mine.reduce((n, b) => n + b.ops, 0)).toBe(1001);
  expect(mine.reduce((n, b) => n + b.failed, 0)).toBe(1);
  for (const b of mine) {
    expect(b.committed).toBe(true);
    expect(b.waitMs).toBeGreaterThanOrEqual(0);
    expect(b.commitMs).toBeGreaterThan(0);
    expect(b.bytes).toBeGreaterThan(0);
    expect(b.transactionOps).toBe(b.ops);
  }
});

test('litescribe:retry reports lock retries and litescribe:checkpoint each checkpoint, with the queue', async () => {
  const { q, path } = await openTestQueue({ busyDeadlineMs: 20_000 });
  const retries = listen<RetryDiagnostics>(DIAGNOSTICS_CHANNELS.retry);
  const checkpoints = listen<CheckpointDiagnostics>(DIAGNOSTICS_CHANNELS.checkpoint);
  const holder = spawnFixture('lock-holder.mjs', [path, '300']);
  await holder.waitForLine(/^locked$/);
  await q.run(INSERT, ['s', 'after the lock']);
  expect(retries.length).toBeGreaterThan(0);
  expect(retries[0]).toMatchObject({ queue: q, kind: 'retry', code: 'SQLITE_BUSY', attempt: 1 });
  const report = await q.checkpoint('truncate');
  expect(checkpoints.filter((c) => c.queue === q).at(-1)).toMatchObject({ ...report, queue: q });
});
