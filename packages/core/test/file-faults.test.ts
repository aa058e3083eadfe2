// Faults around the file: its -wal deleted or the file replaced under an open queue, and a disk
// that fills while COMMIT writes the WAL.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, renameSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, test } from 'vitest';
import { FileReplacedError, SqliteError, WorkerExitedError, openWriteQueue } from '@litescribe/core';
import type { WriteQueue } from '@litescribe/core';
import { MESSAGES_SCHEMA, openTestQueue, reader, spawnFixture, tempDir, until } from './helpers.js';

const INSERT = 'INSERT INTO messages(session_id, content) VALUES (?, ?)';

/**
 * Another process opening the path afterwards (as a user's next CLI run would) and writing `n` rows
 * with plain better-sqlite3. Another process, not this one: SQLite shares one lock and shared-memory
 * state per file within a process, which would hide what a real second process meets.
 */
function anotherProcessWrites(path: string, session: string, n: number): void {
  const script = `
    const Database = require('better-sqlite3');
    const db = new Database(process.argv[1], { timeout: 5000 });
    db.pragma('journal_mode = WAL');
    db.exec(${JSON.stringify(MESSAGES_SCHEMA)});
    const insert = db.prepare('INSERT INTO messages(session_id, content) VALUES (?, ?)');
    db.transaction(() => { for (let i = 0; i < Number(process.argv[3]); i++) insert.run(process.argv[2], process.argv[2] + '-' + i); })();
    db.close();`;
  execFileSync(process.execPath, ['-e', script, path, session, String(n)], { cwd: fileURLToPath(new URL('..', import.meta.url)) });
}

function rowsOf(path: string, session: string): string[] {
  const db = reader(path);
  try {
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    return db.prepare('SELECT content FROM messages WHERE session_id = ? ORDER BY id').pluck().all(session) as string[];
  } finally {
    db.close();
  }
}

/** Writes until one is refused; returns what was acknowledged and the first refusal. */
async function writeUntilRefused(q: WriteQueue, session: string, limit = 50): Promise<{ acked: string[]; refusal: unknown }> {
  const acked: string[] = [];
  for (let i = 0; i < limit; i++) {
    try {
      await q.run(INSERT, [session, `${session}-${i}`]);
      acked.push(`${session}-${i}`);
    } catch (err) {
      return { acked, refusal: err };
    }
  }
  return { acked, refusal: null };
}

for (const shareWriter of ['off', 'auto'] as const) {
  test(`the -wal and -shm deleted under a writing queue (shareWriter '${shareWriter}'): nothing is acknowledged after, and close() copies nothing stale over the live file`, async () => {
    const { q, path } = await openTestQueue({ shareWriter, checkpointEveryCommits: 1_000_000 });
    for (let i = 0; i < 20; i++) await q.run(INSERT, ['before', `before-${i}`]);
    unlinkSync(`${path}-wal`);
    unlinkSync(`${path}-shm`);
    const { acked, refusal } = await writeUntilRefused(q, 'after');
    expect(acked).toEqual([]);
    expect(refusal).toBeInstanceOf(FileReplacedError);
    expect((refusal as Error).message).toMatch(/-wal was deleted while the queue had the database open/);
    // Every later operation is refused too, and so is a checkpoint of the dead generation.
    await expect(q.run(INSERT, ['after', 'later'])).rejects.toBeInstanceOf(FileReplacedError);
    await expect(q.checkpoint('truncate')).rejects.toBeInstanceOf(FileReplacedError);
    // A new process opens the path (the live generation) and writes.
    anotherProcessWrites(path, 'live', 300);
    await q.close();
    // The queue's close ran no checkpoint of its dead WAL over the live file.
    expect(rowsOf(path, 'live')).toHaveLength(300);
    expect(rowsOf(path, 'after')).toEqual([]);
  });

  test(`an older copy renamed over the file (shareWriter '${shareWriter}'): nothing is acknowledged into the replaced file`, async () => {
    const { q, path } = await openTestQueue({ shareWriter });
    for (let i = 0; i < 10; i++) await q.run(INSERT, ['old', `old-${i}`]);
    await q.checkpoint('truncate');
    const backup = `${path}.bak`;
    copyFileSync(path, backup);
    for (let i = 0; i < 10; i++) await q.run(INSERT, ['newer', `newer-${i}`]);
    await q.checkpoint('truncate');
    renameSync(backup, path);
    const { acked, refusal } = await writeUntilRefused(q, 'after');
    expect(acked).toEqual([]);
    expect(refusal).toBeInstanceOf(FileReplacedError);
    expect((refusal as Error).message).toMatch(/was replaced \(another file was renamed over it/);
    await q.close();
    // The restored copy is what the path holds, untouched.
    expect(rowsOf(path, 'old')).toHaveLength(10);
    expect(rowsOf(path, 'newer')).toEqual([]);
  });
}

test('a leader whose -wal is deleted steps down: its follower (another process) elects a leader on the live file, and every write it started after the deletion and saw acknowledged is there', async () => {
  const { q: leader, path } = await openTestQueue({ checkpointEveryCommits: 1_000_000 });
  // The schema in the database file itself, as in any file that has been in use for a while (a
  // schema that only ever lived in the deleted -wal goes with it).
  await leader.checkpoint('truncate');
  const follower = spawnFixture('shared-writer.mjs', [path, 'f', '1000000']);
  expect(await follower.waitForLine(/^role /)).toBe('role follower');
  await until(() => follower.lines.filter((l) => l.startsWith('ack ')).length > 30, 'writes through the leader');
  const deletedAt = Date.now();
  unlinkSync(`${path}-wal`);
  unlinkSync(`${path}-shm`);
  // The leader refuses what comes after, steps down, and the follower leads on the live file.
  await until(() => follower.lines.includes('role leader'), 'the follower leading on the live file');
  await expect(leader.run(INSERT, ['l', 'l-after'])).rejects.toBeInstanceOf(FileReplacedError);
  const atSwitch = follower.lines.filter((l) => l.startsWith('ack ')).length;
  await until(() => follower.lines.filter((l) => l.startsWith('ack ')).length > atSwitch + 30, 'writes on the live file');
  follower.proc.kill('SIGTERM');
  expect(await follower.exited).toBe(0);
  await leader.close();
  expect(follower.lines.filter((l) => /^(doubt|error|busy) /.test(l))).toEqual([]);
  // Acknowledged writes started after the deletion are all in the live file (a write acknowledged
  // before it went with the deleted -wal: that is what deleting it does).
  const startedAfter = follower.lines
    .filter((l) => l.startsWith('ack '))
    .map((l) => l.split(' '))
    .filter(([, , at, ms]) => Number(at) - Number(ms) > deletedAt + 1)
    .map(([, i]) => `f-${i}`);
  expect(startedAfter.length).toBeGreaterThan(30);
  const live = new Set(rowsOf(path, 'f'));
  expect(startedAfter.filter((c) => !live.has(c))).toEqual([]);
});

const asRoot = process.getuid?.() === 0;
const mounts: string[] = [];
const queues: WriteQueue[] = [];
afterEach(async () => {
  for (const q of queues.splice(0)) await q.destroy();
  for (const m of mounts.splice(0)) execFileSync('umount', [m]);
});

/** A tmpfs of `size` under a fresh temporary folder (root only). */
function smallDisk(size: string): string {
  const dir = join(tempDir(), 'disk');
  mkdirSync(dir);
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir]);
  mounts.push(dir);
  return dir;
}

test.runIf(asRoot)('(needs root, to mount a small tmpfs) a COMMIT that fails because the disk filled is outcome-unknown, not "rolled back"', async () => {
  const path = join(smallDisk('512k'), 'full.db');
  const q = await openWriteQueue({ path, setup: MESSAGES_SCHEMA, shareWriter: 'off' });
  queues.push(q);
  await q.run('INSERT INTO messages(session_id, content) VALUES (?, ?)', ['s', 'fits']);
  // ~900 KiB in one transaction: every statement succeeds in the page cache, and the WAL write
  // at COMMIT meets a full disk.
  const big = 'c'.repeat(3_000);
  const outcomes = await Promise.allSettled(
    Array.from({ length: 300 }, (_, i) => q.run('INSERT INTO messages(session_id, content) VALUES (?, ?)', ['full', `${big}${i}`])),
  );
  expect(outcomes.every((o) => o.status === 'rejected')).toBe(true);
  const reasons = outcomes.map((o) => (o as PromiseRejectedResult).reason as Error);
  expect(reasons.every((r) => r instanceof WorkerExitedError)).toBe(true);
  expect(reasons[0]!.message).toMatch(/^COMMIT failed \(SQLITE_FULL: .*\); whether this batch committed is unknown/);
  // SQLite's own error travels as the cause, typed, for code that matches on it.
  expect(reasons[0]!.cause).toBeInstanceOf(SqliteError);
  expect((reasons[0]!.cause as SqliteError).code).toBe('SQLITE_FULL');
  // The queue stays usable for what fits.
  await expect(q.run('INSERT INTO messages(session_id, content) VALUES (?, ?)', ['s', 'after'])).resolves.toMatchObject({ changes: 1 });
  const db = reader(path);
  expect(db.prepare("SELECT count(*) FROM messages WHERE session_id = 's'").pluck().get()).toBe(2);
  db.close();
});
