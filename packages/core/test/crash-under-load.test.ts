import { expect, test } from 'vitest';
import { WorkerExitedError } from '@litescribe/core';
import { openTestQueue, reader, spawnFixture } from './helpers.js';

const INSERT = 'INSERT INTO messages(session_id, content) VALUES (?, ?)';

// Each process with its own writer (shareWriter 'off'): one process's writer thread dying touches
// no other process. (With a shared writer the leader's thread is everyone's: see shared-writer tests.)
test('the writer thread dies mid-batch while other processes write: in-flight ops reject, the file is intact, later ops succeed', async () => {
  const { q, path } = await openTestQueue({ shareWriter: 'off' });
  const others = Array.from({ length: 3 }, (_, id) => spawnFixture('mp-writer.mjs', [path, String(100 + id), '150', '3', 'off']));
  await Promise.all(others.map((c) => c.waitForLine(/^ready$/)));
  // Load from this process too, then the crash in the middle of it.
  const before = Array.from({ length: 300 }, (_, i) => q.run(INSERT, ['me', `before-${i}`]));
  const crash = q.call('exitThread', { content: 'crash-row' });
  const after = Array.from({ length: 300 }, (_, i) => q.run(INSERT, ['me', `after-${i}`]));
  const outcomes = await Promise.allSettled([...before, crash, ...after]);

  const rejected = outcomes.filter((o) => o.status === 'rejected').map((o) => (o as PromiseRejectedResult).reason);
  expect(rejected.length).toBeGreaterThanOrEqual(1); // at least the crashing call
  for (const r of rejected) expect(r).toBeInstanceOf(WorkerExitedError);
  expect(outcomes[300]!.status).toBe('rejected');

  const codes = await Promise.all(others.map((c) => c.exited));
  expect(codes).toEqual([0, 0, 0]);
  await expect(q.run(INSERT, ['me', 'later'])).resolves.toMatchObject({ changes: 1 });

  const db = reader(path);
  expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
  // Every acknowledged row of this process is present; nothing of the crashed transaction is.
  const present = new Set(db.prepare("SELECT content FROM messages WHERE session_id = 'me'").pluck().all() as string[]);
  const labels = [...before.map((_, i) => `before-${i}`), 'crash-row', ...after.map((_, i) => `after-${i}`)];
  outcomes.forEach((o, i) => {
    if (o.status === 'fulfilled') expect(present.has(labels[i]!)).toBe(true);
  });
  expect(present.has('crash-row')).toBe(false);
  expect(db.prepare("SELECT count(*) FROM messages WHERE session_id LIKE 'p1%'").pluck().get()).toBe(450);
});
