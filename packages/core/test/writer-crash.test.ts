import { expect, test } from 'vitest';
import { WorkerExitedError } from '@litescribe/core';
import { openTestQueue, reader } from './helpers.js';

const INSERT = 'INSERT INTO messages(session_id, content) VALUES (?, ?)';

test('a writer thread that dies mid-batch: its ops reject with WorkerExitedError, later ops go to a fresh writer', async () => {
  const { q, path } = await openTestQueue();
  const errors: Error[] = [];
  q.on('error', (e) => errors.push(e));
  await q.run(INSERT, ['s', 'before']);
  const hold = q.call('hold', { ms: 200 }); // so the crash batch forms behind it
  await new Promise((r) => setTimeout(r, 50));
  const sameBatch = [
    q.run(INSERT, ['s', 'lost-1']),
    q.call('exitThread', { content: 'lost-2' }),
    q.run(INSERT, ['s', 'lost-3']),
  ];
  await hold;
  const outcomes = await Promise.allSettled(sameBatch);
  for (const o of outcomes) {
    expect(o.status).toBe('rejected');
    expect((o as PromiseRejectedResult).reason).toBeInstanceOf(WorkerExitedError);
    expect((o as PromiseRejectedResult).reason.code).toBe('ERR_WORKER_EXITED');
  }
  // Ops after the crash run on a replacement writer, on the same file.
  const later = await Promise.all(Array.from({ length: 100 }, (_, i) => q.run(INSERT, ['s', `after-${i}`])));
  expect(later).toHaveLength(100);
  const db = reader(path);
  expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
  expect(db.prepare("SELECT count(*) FROM messages WHERE content LIKE 'lost-%'").pluck().get()).toBe(0);
  expect(db.prepare('SELECT count(*) FROM messages').pluck().get()).toBe(101);
  expect(q.stats().writerRestarts).toBe(1);
  expect(errors).toHaveLength(1);
  expect(errors[0]).toBeInstanceOf(WorkerExitedError);
});

test('ops not yet handed to the writer when it dies are not lost: they go to the new writer', async () => {
  // One op per batch. The writer holds at most two tasks: the crashing one and the one queued behind
  // it. That second one was sent, so its outcome is unknown and it rejects; every later op must run.
  const { q, path } = await openTestQueue({ maxBatchOps: 1 });
  const crash = q.call('exitThread', { content: 'lost' });
  const queued = Array.from({ length: 20 }, (_, i) => q.run(INSERT, ['s', `queued-${i}`]));
  await expect(crash).rejects.toBeInstanceOf(WorkerExitedError);
  const outcomes = await Promise.allSettled(queued);
  const rejected = outcomes.flatMap((o, i) => (o.status === 'rejected' ? [i] : []));
  expect(rejected.length).toBeLessThanOrEqual(1);
  if (rejected.length === 1) {
    expect(rejected).toEqual([0]);
    expect((outcomes[0] as PromiseRejectedResult).reason).toBeInstanceOf(WorkerExitedError);
  }
  expect(reader(path).prepare('SELECT count(*) FROM messages').pluck().get()).toBe(20 - rejected.length);
  expect(q.stats().writerRestarts).toBe(1);
});
