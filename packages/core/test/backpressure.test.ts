import { expect, test } from 'vitest';
import { QueueFullError } from '@litescribe/core';
import { openTestQueue, reader } from './helpers.js';

const INSERT = 'INSERT INTO messages(session_id, content) VALUES (?, ?)';

test("onFull: 'reject' rejects past maxQueue with QueueFullError, and accepts again once there is room", async () => {
  const { q, path } = await openTestQueue({ maxQueue: 10, onFull: 'reject' });
  const hold = q.call('hold', { ms: 300 }); // keeps the writer busy so the queue fills
  const ops = Array.from({ length: 15 }, (_, i) => q.run(INSERT, ['s', `m${i}`]));
  const outcomes = await Promise.allSettled([hold, ...ops]);
  const rejected = outcomes.filter((o) => o.status === 'rejected').map((o) => (o as PromiseRejectedResult).reason);
  // hold + 9 runs fill the 10 places; the remaining 6 runs are refused.
  expect(rejected).toHaveLength(6);
  for (const r of rejected) {
    expect(r).toBeInstanceOf(QueueFullError);
    expect(r.code).toBe('ERR_QUEUE_FULL');
  }
  await expect(q.run(INSERT, ['s', 'later'])).resolves.toMatchObject({ changes: 1 });
  expect(reader(path).prepare('SELECT count(*) FROM messages').pluck().get()).toBe(10);
});

test("onFull: 'wait' makes calls wait for room; depth never exceeds maxQueue and nothing is lost", async () => {
  const { q, path } = await openTestQueue({ maxQueue: 50, maxBatchOps: 20 });
  let maxDepth = 0;
  let sawWaiting = false;
  const ops: Array<Promise<unknown>> = [];
  for (let i = 0; i < 1000; i++) {
    ops.push(q.run(INSERT, ['s', `m${i}`]));
    const s = q.stats();
    maxDepth = Math.max(maxDepth, s.queueDepth);
    sawWaiting ||= s.waitingForRoom > 0;
  }
  await Promise.all(ops);
  expect(maxDepth).toBe(50);
  expect(sawWaiting).toBe(true);
  const seqs = reader(path).prepare('SELECT content FROM messages ORDER BY id').pluck().all();
  expect(seqs).toEqual(Array.from({ length: 1000 }, (_, i) => `m${i}`));
});

test('an op still queued is cancelled by its AbortSignal (rejects with signal.reason, never written)', async () => {
  const { q, path } = await openTestQueue();
  const hold = q.call('hold', { ms: 300 });
  await new Promise((r) => setTimeout(r, 50)); // the hold is now with the writer
  const controller = new AbortController();
  const cancelled = q.run(INSERT, ['s', 'cancelled'], { signal: controller.signal });
  const kept = q.run(INSERT, ['s', 'kept']);
  const reason = new Error('caller gave up');
  controller.abort(reason);
  await expect(cancelled).rejects.toBe(reason);
  await Promise.all([hold, kept]);
  expect(reader(path).prepare('SELECT content FROM messages').pluck().all()).toEqual(['kept']);
  expect(q.stats().queueDepth).toBe(0);
});

test('an op already sent to the writer runs to the end even if its signal aborts', async () => {
  const { q, path } = await openTestQueue();
  const controller = new AbortController();
  const sent = q.batch(
    [
      { sql: 'INSERT INTO messages(session_id, content) VALUES (?, ?)', params: ['s', 'sent'] },
    ],
    { signal: controller.signal },
  );
  const hold = q.call('hold', { ms: 200 }, { signal: controller.signal });
  await new Promise((r) => setTimeout(r, 50));
  controller.abort();
  await expect(Promise.all([sent, hold])).resolves.toHaveLength(2);
  expect(reader(path).prepare('SELECT content FROM messages').pluck().all()).toEqual(['sent']);
});

test('a signal aborted before the call rejects at once; waiting-for-room calls can be cancelled too', async () => {
  const { q, path } = await openTestQueue({ maxQueue: 2 });
  await expect(q.run(INSERT, ['s', 'x'], { signal: AbortSignal.abort(new Error('already')) })).rejects.toThrow('already');
  const hold = q.call('hold', { ms: 200 });
  const queued = q.run(INSERT, ['s', 'queued']);
  const controller = new AbortController();
  const waiting = q.run(INSERT, ['s', 'waiting'], { signal: controller.signal });
  expect(q.stats().waitingForRoom).toBe(1);
  controller.abort(new Error('no room, no wait'));
  await expect(waiting).rejects.toThrow('no room, no wait');
  await Promise.all([hold, queued]);
  expect(reader(path).prepare('SELECT content FROM messages').pluck().all()).toEqual(['queued']);
});
