import { expect, test } from 'vitest';
import { ProcedureError, SqliteError } from '@litescribe/core';
import { openTestQueue, reader } from './helpers.js';

const INSERT = 'INSERT INTO messages(session_id, content) VALUES (?, ?)';

test('a constraint failure in the middle of a large batch rejects only that operation', async () => {
  const { q, path } = await openTestQueue({ maxBatchOps: 2000 });
  await q.run(INSERT, ['s', 'taken']);
  const ops = Array.from({ length: 1001 }, (_, i) => q.run(INSERT, ['s', i === 500 ? 'taken' : `m${i}`]));
  const outcomes = await Promise.allSettled(ops);
  const rejected = outcomes.flatMap((o, i) => (o.status === 'rejected' ? [{ i, reason: o.reason as SqliteError }] : []));
  expect(rejected.map((r) => r.i)).toEqual([500]);
  expect(rejected[0]!.reason).toBeInstanceOf(SqliteError);
  expect(rejected[0]!.reason.code).toBe('SQLITE_CONSTRAINT_UNIQUE');
  // The rest of that same transaction committed.
  expect(reader(path).prepare('SELECT count(*) FROM messages').pluck().get()).toBe(1001);
  expect(q.stats().maxOpsPerTransaction).toBeGreaterThan(500);
});

test('bad SQL that only SQLite can catch rejects alone with SQLite code', async () => {
  const { q, path } = await openTestQueue();
  const [a, bad, c] = await Promise.allSettled([
    q.run(INSERT, ['s', 'a']),
    q.run('INSERT INTO no_such_table(x) VALUES (1)'),
    q.run(INSERT, ['s', 'c']),
  ]);
  expect(a.status).toBe('fulfilled');
  expect(c.status).toBe('fulfilled');
  expect(bad.status).toBe('rejected');
  expect((bad as PromiseRejectedResult).reason).toBeInstanceOf(SqliteError);
  expect((bad as PromiseRejectedResult).reason.code).toBe('SQLITE_ERROR');
  expect(reader(path).prepare('SELECT count(*) FROM messages').pluck().get()).toBe(2);
});

test('a batch whose second statement fails leaves nothing of itself, and its neighbours commit', async () => {
  const { q, path } = await openTestQueue();
  await q.run(INSERT, ['s', 'dup']);
  const outcomes = await Promise.allSettled([
    q.run(INSERT, ['s', 'before']),
    q.batch([
      { sql: INSERT, params: ['batch', 'first-of-batch'] },
      { sql: INSERT, params: ['batch', 'dup'] },
      { sql: INSERT, params: ['batch', 'third-of-batch'] },
    ]),
    q.run(INSERT, ['s', 'after']),
  ]);
  expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  expect(((outcomes[1] as PromiseRejectedResult).reason as SqliteError).code).toBe('SQLITE_CONSTRAINT_UNIQUE');
  const contents = reader(path).prepare('SELECT content FROM messages ORDER BY id').pluck().all();
  expect(contents).toEqual(['dup', 'before', 'after']);
});

test('a procedure that throws rejects alone and what it wrote is rolled back', async () => {
  const { q, path } = await openTestQueue();
  const outcomes = await Promise.allSettled([
    q.call('appendMessage', { sessionId: 's', content: 'kept-1' }),
    q.call('insertThenThrow', { content: 'doomed' }),
    q.call('insertTwice', { content: 'twice' }),
    q.call('appendMessage', { sessionId: 's', content: 'kept-2' }),
  ]);
  expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
  const thrown = (outcomes[1] as PromiseRejectedResult).reason as ProcedureError;
  expect(thrown).toBeInstanceOf(ProcedureError);
  expect(thrown.code).toBe('ERR_PROCEDURE_FAILED');
  expect(thrown.procedure).toBe('insertThenThrow');
  expect(thrown.message).toContain('refusing doomed');
  const sqlite = (outcomes[2] as PromiseRejectedResult).reason as SqliteError;
  expect(sqlite).toBeInstanceOf(SqliteError);
  expect(sqlite.code).toBe('SQLITE_CONSTRAINT_UNIQUE');
  expect(sqlite.procedure).toBe('insertTwice');
  expect(reader(path).prepare('SELECT content FROM messages ORDER BY id').pluck().all()).toEqual(['kept-1', 'kept-2']);
});

test('procedure results: returned values arrive; promises, uncloneable values and COMMIT inside are errors', async () => {
  const { q, path } = await openTestQueue();
  await expect(q.call('appendMessage', { sessionId: 's', content: 'x' })).resolves.toBe(1);
  await expect(q.call('isAsync')).rejects.toMatchObject({ code: 'ERR_PROCEDURE_FAILED', message: expect.stringMatching(/synchronous/) });
  await expect(q.call('returnsFunction')).rejects.toMatchObject({ code: 'ERR_PROCEDURE_FAILED', message: expect.stringMatching(/cannot be sent/) });
  await expect(q.call('commitsItself')).rejects.toMatchObject({ code: 'ERR_TRANSACTION_LOST' });
  // The queue carries on.
  await expect(q.call('countMessages')).resolves.toBe(1);
  expect(reader(path).prepare('SELECT count(*) FROM messages').pluck().get()).toBe(1);
});

test('an error that ends the whole transaction (SQLITE_FULL) fails every op of the batch and leaves nothing partial', async () => {
  const { q, path } = await openTestQueue({ maxBatchOps: 1000 });
  await q.run(INSERT, ['s', 'seed']);
  const pages = (await q.call<number>('countMessages')) >= 0 ? Number(reader(path).pragma('page_count', { simple: true })) : 0;
  // Cap the writer's file at its current size: the next page it needs is SQLITE_FULL.
  await q.run(`PRAGMA max_page_count = ${pages + 1}`);
  const big = 'f'.repeat(3000);
  const outcomes = await Promise.allSettled(Array.from({ length: 200 }, (_, i) => q.run(INSERT, ['full', `${big}${i}`])));
  expect(outcomes.every((o) => o.status === 'rejected')).toBe(true);
  const codes = new Set(outcomes.map((o) => ((o as PromiseRejectedResult).reason as SqliteError).code));
  expect(codes).toEqual(new Set(['SQLITE_FULL']));
  expect(reader(path).prepare("SELECT count(*) FROM messages WHERE session_id = 'full'").pluck().get()).toBe(0);
  expect(q.stats().opsCommitted).toBe(3);
  // Make room: the queue keeps working.
  await q.run('PRAGMA max_page_count = 1073741823');
  await expect(q.run(INSERT, ['s', 'after-room'])).resolves.toMatchObject({ changes: 1 });
});
