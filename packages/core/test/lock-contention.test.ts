import { monitorEventLoopDelay } from 'node:perf_hooks';
import { expect, test } from 'vitest';
import { BusyTimeoutError } from '@litescribe/core';
import type { RetryEvent } from '@litescribe/core';
import { openTestQueue, reader, spawnFixture } from './helpers.js';

const INSERT = 'INSERT INTO messages(session_id, content) VALUES (?, ?)';

test('ops wait out another process holding the write lock, retrying in the writer, then commit', async () => {
  const { q, path } = await openTestQueue({ busyDeadlineMs: 20_000 });
  const retries: RetryEvent[] = [];
  q.on('retry', (e) => retries.push(e));
  const holder = spawnFixture('lock-holder.mjs', [path, '1500']);
  await holder.waitForLine(/^locked$/);

  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const started = performance.now();
  const ops = Array.from({ length: 50 }, (_, i) => q.run(INSERT, ['s', `m${i}`]));
  const results = await Promise.all(ops);
  const waited = performance.now() - started;
  delay.disable();

  expect(results).toHaveLength(50);
  // The holder's "released" line travels through a pipe and may arrive after our commit did.
  await holder.waitForLine(/^released$/, 5_000);
  expect(retries.length).toBeGreaterThan(0);
  for (const [i, e] of retries.entries()) {
    expect(e.kind).toBe('retry');
    expect(e.code).toBe('SQLITE_BUSY');
    expect(e.attempt).toBe(i + 1);
    expect(e.delayMs).toBeGreaterThanOrEqual(0);
  }
  const s = q.stats();
  expect(s.busyRetries).toBe(retries.length);
  expect(s.lockWaitMs).toBeGreaterThan(0);
  expect(reader(path).prepare("SELECT count(*) FROM messages WHERE session_id = 's'").pluck().get()).toBe(50);
  // Printed, not asserted tightly: the main thread stayed free while the writer waited.
  console.log(`waited ${waited.toFixed(0)} ms for the lock; main-thread event-loop delay max ${(delay.max / 1e6).toFixed(1)} ms over ${retries.length} retries`);
  expect(delay.max / 1e6).toBeLessThan(waited / 2);
});

test('held past busyDeadlineMs, waiting ops reject with BusyTimeoutError and the queue serves the next ones', async () => {
  const { q, path } = await openTestQueue({ busyDeadlineMs: 300 });
  const holder = spawnFixture('lock-holder.mjs', [path, '2000']);
  await holder.waitForLine(/^locked$/);
  const outcomes = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => q.run(INSERT, ['timeout', `t${i}`])));
  for (const o of outcomes) {
    expect(o.status).toBe('rejected');
    const reason = (o as PromiseRejectedResult).reason as BusyTimeoutError;
    expect(reason).toBeInstanceOf(BusyTimeoutError);
    expect(reason.code).toBe('ERR_BUSY_TIMEOUT');
  }
  await holder.waitForLine(/^released$/);
  await expect(q.run(INSERT, ['s', 'after'])).resolves.toMatchObject({ changes: 1 });
  expect(reader(path).prepare("SELECT count(*) FROM messages WHERE session_id = 'timeout'").pluck().get()).toBe(0);
});
