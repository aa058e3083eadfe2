import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { QueueClosedError, WorkerExitedError, openWriteQueue } from '@litescribe/core';
import { countRows, openTestQueue, spawnFixture, tempDir } from './helpers.js';

const INSERT = 'INSERT INTO messages(session_id, content) VALUES (?, ?)';

test('flush() resolves once every op enqueued before it has settled, not the ones after', async () => {
  // One op per transaction, so the op enqueued after flush() cannot share a commit with those before.
  const { q } = await openTestQueue({ maxBatchOps: 1 });
  const settled = new Set<number>();
  const before = Array.from({ length: 200 }, (_, i) => q.run(INSERT, ['s', `m${i}`]).finally(() => settled.add(i)));
  const failing = q.run(INSERT, ['s', 'm0']).catch(() => 'failed'); // settles by failing, still counts
  const flushed = q.flush();
  const after = q.call('hold', { ms: 500 });
  await flushed;
  expect(settled.size).toBe(200);
  await expect(Promise.race([failing, 'pending'])).resolves.toBe('failed');
  await expect(Promise.race([after.then(() => 'done'), new Promise((r) => setTimeout(() => r('pending'), 50))])).resolves.toBe('pending');
  await Promise.all([...before, after]);
  await expect(q.flush()).resolves.toBeUndefined();
});

test('close() under load commits everything accepted, then rejects new work; twice is fine', async () => {
  const { q, path } = await openTestQueue({ maxBatchOps: 50 });
  const ops = Array.from({ length: 5_000 }, (_, i) => q.run(INSERT, ['s', `m${i}`]));
  const closing = q.close();
  expect(q.close()).toBe(closing);
  await expect(q.run(INSERT, ['s', 'late'])).rejects.toBeInstanceOf(QueueClosedError);
  await closing;
  const outcomes = await Promise.allSettled(ops);
  expect(outcomes.every((o) => o.status === 'fulfilled')).toBe(true);
  expect(countRows(path)).toBe(5_000);
  await expect(q.call('countMessages')).rejects.toMatchObject({ code: 'ERR_QUEUE_CLOSED' });
  await expect(q.flush()).resolves.toBeUndefined();
  await expect(q.close()).resolves.toBeUndefined();
});

test('destroy(reason) rejects queued ops with the reason and in-flight ones with WorkerExitedError, at once', async () => {
  const { q, path } = await openTestQueue();
  const inFlight = q.call('hold', { ms: 2_000 });
  await new Promise((r) => setTimeout(r, 100));
  const queued = Array.from({ length: 20 }, (_, i) => q.run(INSERT, ['s', `q${i}`]));
  const outcomes = Promise.allSettled([inFlight, ...queued]);
  const reason = new Error('shutting down');
  const started = performance.now();
  await q.destroy(reason);
  expect(performance.now() - started).toBeLessThan(1_500); // did not wait for the 2 s hold
  const [first, ...rest] = await outcomes;
  expect((first as PromiseRejectedResult).reason).toBeInstanceOf(WorkerExitedError);
  for (const o of rest) expect((o as PromiseRejectedResult).reason).toBe(reason);
  await expect(q.run(INSERT, ['s', 'late'])).rejects.toBeInstanceOf(QueueClosedError);
  expect(countRows(path)).toBe(0);
});

test('an open queue does not keep an idle process alive', async () => {
  const path = join(tempDir(), 'idle.db');
  const child = spawnFixture('idle-exit.mjs', [path]);
  await child.waitForLine(/^written$/);
  await expect(child.exited).resolves.toBe(0);
  expect(countRows(path)).toBe(1);
});

test('writes fired without awaiting survive a process that exits through close()', async () => {
  const path = join(tempDir(), 'exit.db');
  const child = spawnFixture('close-on-exit.mjs', [path, '20000']);
  await expect(child.exited).resolves.toBe(0);
  expect(child.lines).toContain('closed');
  expect(countRows(path)).toBe(20_000);
});

test('a failed open rejects with a clear error and leaves no thread running', async () => {
  const dir = tempDir();
  const threads = (): number => readdirSync('/proc/self/task').length;
  // Warm up: the first open starts process-wide helper threads (libuv pool) that stay.
  await (await openWriteQueue({ path: join(dir, 'warm.db') })).close();
  const baseline = threads();
  await expect(openWriteQueue({ path: join(dir, 'bad.db'), setup: 'CREATE TABLE oops (' })).rejects.toMatchObject({
    name: 'SqliteError',
    code: 'SQLITE_ERROR',
  });
  await expect(openWriteQueue({ path: join(dir, 'bad2.db'), procedures: join(dir, 'missing.mjs') })).rejects.toMatchObject({
    code: 'ERR_INVALID_OPTION',
    message: expect.stringContaining('procedures'),
  });
  await expect(openWriteQueue({ path: join(dir, 'no-such-dir', 'x.db') })).rejects.toThrow(/no such file|unable to open|ENOENT/i);
  await new Promise((r) => setTimeout(r, 200));
  expect(threads()).toBe(baseline);
});
