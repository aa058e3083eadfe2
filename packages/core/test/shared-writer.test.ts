import { execFile } from 'node:child_process';
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, test } from 'vitest';
import { ProcedureError, QueueClosedError, SqliteError, UnknownProcedureError } from '@litescribe/core';
import { MESSAGES_SCHEMA, countRows, fixture, openTestQueue, reader, spawnFixture, tempDir } from './helpers.js';

const INSERT = 'INSERT INTO messages(session_id, seq, content) VALUES (?, ?, ?)';
const PROCEDURES_B = new URL('./fixtures/procedures-b.mjs', import.meta.url);
const run = promisify(execFile);

// Two queues in one process on one file share a writer just as two processes do: the first
// opener's writer thread leads, the second sends its batches over the socket.
async function leaderAndFollower(followerOptions: Record<string, unknown> = {}) {
  const { q: leader, path } = await openTestQueue();
  const { q: follower } = await openTestQueue({ path, procedures: PROCEDURES_B, ...followerOptions });
  return { leader, follower, path };
}

test('the first opener leads and the second follows; both commit, in the same transactions', async () => {
  const { leader, follower, path } = await leaderAndFollower();
  expect(leader.stats().role).toBe('leader');
  expect(follower.stats().role).toBe('follower');
  // Hold the leader's writer so both processes' next batches wait in it together.
  const held = leader.call('hold', { ms: 300 });
  await new Promise((r) => setTimeout(r, 50));
  const mine = Array.from({ length: 100 }, (_, i) => leader.run(INSERT, ['leader', i, `l-${i}`]));
  const theirs = Array.from({ length: 100 }, (_, i) => follower.run(INSERT, ['follower', i, `f-${i}`]));
  await Promise.all([held, ...mine, ...theirs]);
  expect(countRows(path)).toBe(200);
  // One transaction held both processes' hundred operations.
  expect(follower.stats().maxOpsPerTransaction).toBe(200);
  expect(leader.stats().maxOpsPerTransaction).toBe(200);
  const results = await Promise.all(theirs);
  expect(results.every((r) => r.changes === 1 && typeof r.lastInsertRowid === 'number')).toBe(true);
});

test("a follower's errors keep their types and codes, and sink nothing else", async () => {
  const { leader, follower, path } = await leaderAndFollower();
  await follower.run(INSERT, ['f', 0, 'taken']);
  const outcomes = await Promise.allSettled([
    follower.run(INSERT, ['f', 1, 'ok-1']),
    follower.run(INSERT, ['f', 2, 'taken']),
    follower.batch([
      { sql: INSERT, params: ['f', 3, 'batch-1'] },
      { sql: INSERT, params: ['f', 4, 'taken'] },
    ]),
    follower.call('whoami'),
    leader.call('insertThenThrow', { content: 'gone' }),
    leader.run(INSERT, ['l', 5, 'ok-2']),
  ]);
  expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled', 'rejected', 'fulfilled']);
  const reason = (i: number): unknown => (outcomes[i] as PromiseRejectedResult).reason;
  expect(reason(1)).toBeInstanceOf(SqliteError);
  expect((reason(1) as SqliteError).code).toBe('SQLITE_CONSTRAINT_UNIQUE');
  expect((reason(2) as SqliteError).code).toBe('SQLITE_CONSTRAINT_UNIQUE');
  expect(reason(4)).toBeInstanceOf(ProcedureError);
  // The batch is atomic: its first statement did not stay.
  const db = reader(path);
  const contents = new Set(db.prepare('SELECT content FROM messages').pluck().all() as string[]);
  expect([...contents].sort()).toEqual(['ok-1', 'ok-2', 'taken']);
  await expect(follower.call('nope')).rejects.toBeInstanceOf(UnknownProcedureError);
});

test("each process's call() runs its own module's procedure, in the leader's writer, even under the same name", async () => {
  const { path } = await openTestQueue(); // this process leads, with procedures.mjs
  const { q: same } = await openTestQueue({ path });
  expect(await same.call('whoami')).toEqual({ module: 'a', pid: process.pid });
  // Another process whose module also exports `whoami`: its call answers from its module, run here.
  const script = `
    import { openWriteQueue } from '@litescribe/core';
    const q = await openWriteQueue({ path: ${JSON.stringify(path)}, procedures: ${JSON.stringify(PROCEDURES_B.href)} });
    console.log(JSON.stringify({ role: q.stats().role, who: await q.call('whoami'), procedures: [...q.procedures].sort() }));
    await q.close();`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: fixture('.') });
  expect(JSON.parse(stdout)).toEqual({ role: 'follower', who: { module: 'b', pid: process.pid }, procedures: ['syncLevel', 'whoami'] });
  expect(await same.call('whoami')).toEqual({ module: 'a', pid: process.pid });
});

test("a follower's setup runs through the leader", async () => {
  const { path } = await openTestQueue();
  const { q: follower } = await openTestQueue({ path, setup: [MESSAGES_SCHEMA, 'CREATE TABLE IF NOT EXISTS extra (x INTEGER)'] });
  expect(follower.stats().role).toBe('follower');
  await follower.run('INSERT INTO extra(x) VALUES (?)', [7]);
  expect(reader(path).prepare('SELECT x FROM extra').pluck().all()).toEqual([7]);
});

test('the leader commits at the strongest synchronous any process asked for, and goes back when it leaves', async () => {
  const { leader, follower } = await leaderAndFollower({ synchronous: 'full' });
  // syncLevel runs on the leader's connection: 1 = NORMAL, 2 = FULL.
  expect(await follower.call('syncLevel')).toBe(2);
  expect(await leader.call('syncLevel')).toBe(2);
  await follower.close();
  await expect.poll(() => leader.call('syncLevel'), { timeout: 5_000 }).toBe(1);
});

test('AbortSignal cancels a follower operation still queued in its own process', async () => {
  const { leader, follower, path } = await leaderAndFollower();
  const held = leader.call('hold', { ms: 200 });
  await new Promise((r) => setTimeout(r, 30));
  // Two tasks go to the leader at once; the rest wait in this process, where abort still works.
  const first = Array.from({ length: 3 }, (_, i) => follower.run(INSERT, ['f', i, `first-${i}`]));
  await new Promise((r) => setTimeout(r, 10));
  const second = follower.run(INSERT, ['f', 9, 'second']);
  await new Promise((r) => setTimeout(r, 10));
  const controller = new AbortController();
  const cancelled = follower.run(INSERT, ['f', 10, 'cancelled'], { signal: controller.signal });
  const reason = new Error('no longer needed');
  controller.abort(reason);
  await expect(cancelled).rejects.toBe(reason);
  await Promise.all([held, ...first, second]);
  expect(countRows(path, "content = 'cancelled'")).toBe(0);
  expect(countRows(path, "session_id = 'f'")).toBe(4);
});

test('a process with sharing off writes alongside a shared writer', async () => {
  const { leader, follower, path } = await leaderAndFollower();
  const solo = spawnFixture('mp-writer.mjs', [path, 'solo', '80', '2', 'off']);
  const writes = Array.from({ length: 80 }, (_, i) => (i % 2 === 0 ? leader : follower).run(INSERT, ['shared', i, `shared-${i}`]));
  await Promise.all(writes);
  expect(await solo.exited).toBe(0);
  expect(solo.lines).toContain('done 80 solo');
  expect(countRows(path, "session_id = 'shared'")).toBe(80);
  expect(countRows(path, "session_id = 'psolo'")).toBe(80);
});

test('closing a follower leaves the leader serving; a closed follower refuses new work', async () => {
  const { leader, follower, path } = await leaderAndFollower();
  await follower.run(INSERT, ['f', 0, 'before-close']);
  await follower.close();
  await expect(follower.run(INSERT, ['f', 1, 'after-close'])).rejects.toBeInstanceOf(QueueClosedError);
  await leader.run(INSERT, ['l', 0, 'leader-after']);
  expect(countRows(path)).toBe(2);
});

test('exactly one process leads while many open the same file at once', async () => {
  const path = join(tempDir(), 'many.db');
  const children = Array.from({ length: 6 }, (_, i) => spawnFixture('shared-writer.mjs', [path, `p${i}`, '1000000']));
  await Promise.all(children.map((c) => c.waitForLine(/^ready$/)));
  await new Promise((r) => setTimeout(r, 300));
  const roles = children.map((c) => c.lines.filter((l) => l.startsWith('role ')).at(-1));
  expect(roles.filter((r) => r === 'role leader')).toHaveLength(1);
  expect(roles.filter((r) => r === 'role follower')).toHaveLength(5);
  for (const c of children) c.proc.kill('SIGTERM');
  const codes = await Promise.all(children.map((c) => c.exited));
  expect(codes).toEqual([0, 0, 0, 0, 0, 0]);
  const acked = children.reduce((n, c) => n + c.lines.filter((l) => l.startsWith('ack ')).length, 0);
  expect(countRows(path)).toBe(acked);
});

test("followers keep committing while the leader process's main thread is blocked (the socket is served by its writer thread)", async () => {
  const { q: leader, path } = await openTestQueue();
  const follower = spawnFixture('shared-writer.mjs', [path, 'f', '1000000']);
  await follower.waitForLine(/^role follower$/);
  await leader.run(INSERT, ['leader', 0, 'leader-0']);
  // Block this (the leader's) main thread for a second.
  const from = Date.now();
  while (Date.now() - from < 1_000) {
    // busy: no event loop turn here
  }
  const to = Date.now();
  await new Promise((r) => setTimeout(r, 200));
  const during = follower.lines.filter((l) => l.startsWith('ack ')).map((l) => Number(l.split(' ')[2])).filter((t) => t > from + 100 && t < to - 100);
  expect(during.length).toBeGreaterThan(20);
  expect(leader.stats().role).toBe('leader');
  follower.proc.kill('SIGTERM');
  expect(await follower.exited).toBe(0);
});

test("a leader's close() with an idle follower does not wait out the follower's grace period", async () => {
  const { leader, follower } = await leaderAndFollower();
  await follower.run(INSERT, ['f', 0, 'f-0']);
  // The leader waits up to 2 s for followers to hang up after its bye; an idle one hangs up at once.
  const started = performance.now();
  await leader.close();
  expect(performance.now() - started).toBeLessThan(1_500);
  await follower.run(INSERT, ['f', 1, 'f-1']);
  expect(follower.stats().role).toBe('leader');
});

test('a symlinked path to the file meets the same leader', async () => {
  const { q: leader, path } = await openTestQueue();
  const link = join(tempDir(), 'link.db');
  symlinkSync(path, link);
  const { q: follower } = await openTestQueue({ path: link });
  expect(follower.stats().role).toBe('follower');
  await follower.run(INSERT, ['via-link', 0, 'via-link-0']);
  expect(leader.stats().role).toBe('leader');
  expect(countRows(path, "session_id = 'via-link'")).toBe(1);
});
