import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { InvalidOptionError, InvalidParamsError, InvalidSqlError, UnknownProcedureError, openWriteQueue } from '@litescribe/core';
import type { WriteQueueOptions } from '@litescribe/core';
import { openTestQueue, reader, tempDir } from './helpers.js';

const INSERT = 'INSERT INTO messages(session_id, content) VALUES (?, ?)';

const BAD_SQL: Array<[label: string, sql: unknown, message: RegExp]> = [
  ['empty string', '', /non-empty SQL string/],
  ['a number', 42, /non-empty SQL string, got `42` \(number\)/],
  ['null', null, /got `null` \(null\)/],
  ['only a comment', '-- nothing here', /contains no statement/],
  ['two statements', 'INSERT INTO messages(session_id, content) VALUES (1, 2); DELETE FROM messages', /contains 2 statements/],
  ['BEGIN', 'BEGIN', /uses BEGIN/],
  ['BEGIN IMMEDIATE in lower case', '  begin immediate', /uses BEGIN/],
  ['COMMIT', 'COMMIT', /uses COMMIT/],
  ['END', 'END TRANSACTION', /uses END/],
  ['ROLLBACK', 'ROLLBACK', /uses ROLLBACK/],
  ['SAVEPOINT', 'SAVEPOINT sp', /uses SAVEPOINT/],
  ['RELEASE', 'RELEASE sp', /uses RELEASE/],
  ['VACUUM', 'VACUUM', /uses VACUUM/],
  ['ATTACH', "ATTACH 'other.db' AS other", /uses ATTACH/],
  ['DETACH', 'DETACH other', /uses DETACH/],
  ['PRAGMA journal_mode', 'PRAGMA journal_mode = DELETE', /PRAGMA journal_mode/],
  ['PRAGMA main.synchronous', 'PRAGMA main.synchronous = OFF', /PRAGMA synchronous/],
  ['PRAGMA wal_checkpoint', 'PRAGMA wal_checkpoint(TRUNCATE)', /PRAGMA wal_checkpoint/],
  ['PRAGMA busy_timeout', 'pragma busy_timeout=5000', /PRAGMA busy_timeout/],
  ['COMMIT after a comment', '/* sneaky */ COMMIT', /uses COMMIT/],
];

const BAD_PARAMS: Array<[label: string, params: unknown, message: RegExp]> = [
  ['a function', ['s', () => 1], /params\[1\]` cannot be bound/],
  ['a symbol', ['s', Symbol('x')], /params\[1\]` cannot be bound/],
  ['a boolean', ['s', true], /params\[1\]` is a boolean/],
  ['undefined', ['s', undefined], /params\[1\]` cannot be bound/],
  ['a nested object', ['s', { a: 1 }], /params\[1\]` cannot be bound/],
  ['a Date', ['s', new Date(0)], /params\[1\]` cannot be bound/],
  ['a Map', new Map([['a', 1]]), /array or a plain object/],
  ['a string', 'oops', /array or a plain object/],
  ['a named function value', { s: 's', c: () => 1 }, /params\.c` cannot be bound/],
];

describe('bad input rejects with a typed error before the writer, and the queue stays usable', () => {
  test.each(BAD_SQL)('run() with SQL that is %s', async (_label, sql, message) => {
    const { q } = await openTestQueue();
    const p = q.run(sql as string);
    await expect(p).rejects.toBeInstanceOf(InvalidSqlError);
    await expect(p).rejects.toMatchObject({ code: 'ERR_INVALID_SQL', message: expect.stringMatching(message) });
    await expect(q.run(INSERT, ['s', 'still works'])).resolves.toMatchObject({ changes: 1 });
  });

  test.each(BAD_PARAMS)('run() with params that hold %s', async (_label, params, message) => {
    const { q } = await openTestQueue();
    const p = q.run(INSERT, params as never);
    await expect(p).rejects.toBeInstanceOf(InvalidParamsError);
    await expect(p).rejects.toMatchObject({ code: 'ERR_INVALID_PARAMS', message: expect.stringMatching(message) });
    await expect(q.run(INSERT, ['s', 'still works'])).resolves.toMatchObject({ changes: 1 });
  });

  test('methods never throw synchronously; they reject', async () => {
    const { q } = await openTestQueue();
    const calls = [
      () => q.run(undefined as never),
      () => q.batch(undefined as never),
      () => q.call(undefined as never),
      () => q.checkpoint('sideways' as never),
      () => q.run(INSERT, ['s', 'x'], 'not options' as never),
    ];
    for (const call of calls) {
      let result: unknown;
      expect(() => (result = call())).not.toThrow();
      await expect(result).rejects.toBeInstanceOf(Error);
    }
  });

  test('wrong parameter counts and unknown named parameters are typed errors from the writer', async () => {
    const { q, path } = await openTestQueue();
    await expect(q.run(INSERT, ['only-one'])).rejects.toMatchObject({ code: 'ERR_INVALID_PARAMS' });
    await expect(q.run(INSERT, ['a', 'b', 'c'])).rejects.toMatchObject({ code: 'ERR_INVALID_PARAMS' });
    await expect(q.run('INSERT INTO messages(session_id, content) VALUES (:s, :c)', { s: 'x' })).rejects.toMatchObject({ code: 'ERR_INVALID_PARAMS' });
    await q.run(INSERT, ['s', 'ok']);
    expect(reader(path).prepare('SELECT count(*) FROM messages').pluck().get()).toBe(1);
  });

  test('batch(): empty, malformed or with a bad statement inside', async () => {
    const { q } = await openTestQueue();
    await expect(q.batch([])).rejects.toMatchObject({ code: 'ERR_INVALID_PARAMS', message: expect.stringContaining('non-empty array') });
    await expect(q.batch([null as never])).rejects.toMatchObject({ code: 'ERR_INVALID_PARAMS', message: expect.stringContaining('statements[0]') });
    await expect(q.batch([{ sql: INSERT, params: ['s', 'a'] }, { sql: 'COMMIT' }])).rejects.toMatchObject({
      code: 'ERR_INVALID_SQL',
      message: expect.stringContaining('statements[1].sql'),
    });
    await expect(q.batch([{ sql: INSERT, params: ['s', true as never] }])).rejects.toMatchObject({
      code: 'ERR_INVALID_PARAMS',
      message: expect.stringContaining('statements[0].params[1]'),
    });
  });

  test('call(): unknown procedure names and arguments that cannot cross threads', async () => {
    const { q } = await openTestQueue();
    const unknown = q.call('noSuchProcedure', {});
    await expect(unknown).rejects.toBeInstanceOf(UnknownProcedureError);
    await expect(unknown).rejects.toMatchObject({ code: 'ERR_UNKNOWN_PROCEDURE', message: expect.stringMatching(/noSuchProcedure.*appendMessage/) });
    await expect(q.call('appendMessage', { sessionId: 's', content: 'c', extra: () => 1 })).rejects.toMatchObject({ code: 'ERR_INVALID_PARAMS' });
    await expect(q.call('appendMessage', { sessionId: 's', content: Symbol('c') })).rejects.toMatchObject({ code: 'ERR_INVALID_PARAMS' });
    await expect(q.call('appendMessage', { sessionId: 's', content: 'fine' })).resolves.toBe(1);
  });

  test('an AbortSignal that is not one', async () => {
    const { q } = await openTestQueue();
    await expect(q.run(INSERT, ['s', 'x'], { signal: {} as never })).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION', message: expect.stringContaining('`signal`') });
  });
});

const BAD_OPTIONS: Array<[option: string, value: unknown, message: RegExp]> = [
  ['maxBatchOps', 0, /`maxBatchOps` to be an integer >= 1, got `0` \(number\)/],
  ['maxBatchOps', 1.5, /`maxBatchOps` to be an integer >= 1, got `1.5` \(number\)/],
  ['maxBatchOps', '64', /`maxBatchOps` to be an integer >= 1, got `"64"` \(string\)/],
  ['maxBatchBytes', -1, /`maxBatchBytes`.*`-1`/],
  ['maxQueue', 0, /`maxQueue`.*`0`/],
  ['onFull', 'drop', /`onFull` to be one of 'wait', 'reject', got `"drop"`/],
  ['synchronous', 'fast', /`synchronous` to be one of 'off', 'normal', 'full', 'extra', got `"fast"`/],
  ['busyDeadlineMs', -5, /`busyDeadlineMs`.*`-5`/],
  ['busyRetryMaxMs', 0.5, /`busyRetryMaxMs`/],
  ['checkpointEveryCommits', 0, /`checkpointEveryCommits`.*`0`/],
  ['walSoftLimitBytes', 100, /`walSoftLimitBytes` to be an integer >= 4096, got `100`/],
  ['checkpointWaitMs', Number.NaN, /`checkpointWaitMs`.*`NaN`/],
  ['statementCacheSize', -1, /`statementCacheSize`/],
  ['readers', -1, /`readers` to be an integer >= 0, got `-1`/],
  ['walTargetBytes', 'big', /`walTargetBytes` to be an integer >= 0, got `"big"`/],
  ['walTargetBytes', 2 ** 40, /`walTargetBytes` to be an integer <= walSoftLimitBytes \(67108864\)/],
  ['allowUnsafeSqliteVersion', 'yes', /`allowUnsafeSqliteVersion` to be a boolean, got `"yes"`/],
  ['procedures', 42, /`procedures` to be a file path or a file: URL, got `42`/],
  ['procedures', new URL('https://example.com/p.js'), /`procedures`.*https:/],
  ['setup', 42, /`setup` to be a string or an array of strings, got `42`/],
  ['path', '', /`path` to be a non-empty file path/],
  ['path', ':memory:', /`path` to be a file path \(not :memory:/],
  ['path', 7, /`path`.*`7` \(number\)/],
  ['maxBatchOp', 5, /Unknown option `maxBatchOp`/],
];

describe('bad options: openWriteQueue rejects with InvalidOptionError naming the option and the value', () => {
  test.each(BAD_OPTIONS)('%s = %s', async (option, value, message) => {
    const options = { path: join(tempDir(), 'o.db'), [option]: value } as unknown as WriteQueueOptions;
    const p = openWriteQueue(options);
    await expect(p).rejects.toBeInstanceOf(InvalidOptionError);
    await expect(p).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION', message: expect.stringMatching(message) });
  });

  test('busyRetryMaxMs below busyRetryMinMs', async () => {
    await expect(openWriteQueue({ path: join(tempDir(), 'o.db'), busyRetryMinMs: 10, busyRetryMaxMs: 5 })).rejects.toMatchObject({
      code: 'ERR_INVALID_OPTION',
      message: expect.stringMatching(/`busyRetryMaxMs` to be an integer >= busyRetryMinMs \(10\), got `5`/),
    });
  });

  test('setup with transaction control is refused before any thread starts', async () => {
    await expect(openWriteQueue({ path: join(tempDir(), 'o.db'), setup: ['CREATE TABLE a(x)', 'BEGIN; CREATE TABLE b(y); COMMIT'] })).rejects.toMatchObject({
      code: 'ERR_INVALID_SQL',
      message: expect.stringMatching(/setup\[1\].*BEGIN/),
    });
  });

  test('setup may hold triggers whose bodies contain ; and CASE … END', async () => {
    const path = join(tempDir(), 'trig.db');
    const q = await openWriteQueue({
      path,
      setup: `CREATE TABLE t(x); CREATE TABLE log(y);
        CREATE TRIGGER t_ins AFTER INSERT ON t BEGIN
          INSERT INTO log VALUES (CASE WHEN new.x > 0 THEN 'pos' ELSE 'neg' END);
          INSERT INTO log VALUES ('again');
        END;`,
    });
    await q.run('INSERT INTO t VALUES (?)', [1]);
    await q.close();
    expect(reader(path).prepare('SELECT y FROM log').pluck().all()).toEqual(['pos', 'again']);
  });
});
