// q.backup(): a consistent copy while writes keep committing, off the caller's thread; cancelled
// or refused, it leaves nothing behind.
import { readdirSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { expect, test } from 'vitest';
import { InvalidOptionError, backupFile } from '@litescribe/core';
import type { BackupProgress } from '@litescribe/core';
import { MESSAGES_SCHEMA, openTestQueue, reader, tempDir } from './helpers.js';

const INSERT = 'INSERT INTO messages(session_id, content) VALUES (?, ?)';

/** A database of a little over `mb` MiB (rows of 1000 bytes, four to a 4 KiB page), written directly before any queue opens; returns its row count. */
function bigDatabase(path: string, mb: number): number {
  const rows = Math.ceil((mb * 1024 * 1024) / 900);
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.exec(`${MESSAGES_SCHEMA} CREATE TABLE bulk (id INTEGER PRIMARY KEY, body TEXT NOT NULL);`);
  const insert = db.prepare('INSERT INTO bulk(body) VALUES (?)');
  const body = 'x'.repeat(1000);
  db.transaction(() => {
    for (let i = 0; i < rows; i++) insert.run(body);
  })();
  db.close();
  return rows;
}

test('a backup of a 200 MB file taken while 64 callers write holds every write acknowledged before it, opens, and checks ok', async () => {
  const dir = tempDir();
  const path = join(dir, 'state.db');
  const bulkRows = bigDatabase(path, 200);
  expect(statSync(path).size).toBeGreaterThan(200 * 1024 * 1024);
  const { q } = await openTestQueue({ path });

  const acked: string[] = [];
  let writing = true;
  const callers = Array.from({ length: 64 }, async (_, c) => {
    for (let i = 0; writing; i++) {
      const content = `c${c}-${i}`;
      await q.run(INSERT, ['live', content]);
      acked.push(content);
    }
  });
  while (acked.length < 640) await new Promise((r) => setImmediate(r));

  const before = acked.length;
  const progress: BackupProgress[] = [];
  const dest = join(dir, 'copy.db');
  const result = await q.backup(dest, { onProgress: (p) => progress.push(p) });
  const during = acked.length - before;
  writing = false;
  await Promise.all(callers);

  expect(result.path).toBe(dest);
  expect(result.bytes).toBeGreaterThan(200 * 1024 * 1024);
  expect(statSync(dest).mode & 0o777).toBe(0o600);
  // Several steps, counting up to the whole file.
  expect(progress.length).toBeGreaterThan(10);
  for (let i = 1; i < progress.length; i++) expect(progress[i]!.pagesCopied).toBeGreaterThanOrEqual(progress[i - 1]!.pagesCopied);
  expect(progress.at(-1)).toMatchObject({ pagesCopied: result.pages, pagesTotal: result.pages, bytesCopied: result.bytes });
  // The writers were not held: they kept committing while the copy ran.
  expect(during).toBeGreaterThan(0);

  const copy = reader(dest);
  expect(copy.pragma('integrity_check', { simple: true })).toBe('ok');
  expect(copy.prepare('SELECT count(*) FROM bulk').pluck().get()).toBe(bulkRows);
  const inCopy = new Set(copy.prepare("SELECT content FROM messages WHERE session_id = 'live'").pluck().all() as string[]);
  for (const content of acked.slice(0, before)) expect(inCopy.has(content)).toBe(true);
  // One snapshot: each caller awaits its writes one by one, so the copy holds a prefix of each one's.
  for (let c = 0; c < 64; c++) {
    const mine = [...inCopy].filter((content) => content.startsWith(`c${c}-`)).map((content) => Number(content.split('-')[1]));
    expect(mine.sort((a, b) => a - b)).toEqual(mine.map((_, i) => i));
  }
  expect(inCopy.size).toBeLessThanOrEqual(acked.length);
  expect(readdirSync(dir).filter((f) => f.includes('litescribe-backup'))).toEqual([]);
}, 120_000);

test('a cancelled backup rejects with the signal\'s reason and leaves no file at the destination or beside it', async () => {
  const dir = tempDir();
  const path = join(dir, 'state.db');
  bigDatabase(path, 40);
  const { q } = await openTestQueue({ path });
  const files = readdirSync(dir).sort();

  const controller = new AbortController();
  const reason = new Error('stop the copy');
  let steps = 0;
  const cancelled = q.backup(join(dir, 'copy.db'), {
    signal: controller.signal,
    onProgress: (p) => {
      steps += 1;
      if (p.pagesCopied > 0) controller.abort(reason);
    },
  });
  await expect(cancelled).rejects.toBe(reason);
  expect(steps).toBeGreaterThan(0);
  expect(readdirSync(dir).sort()).toEqual(files);

  // Already aborted: refused before anything is written. A throwing onProgress cancels too.
  await expect(q.backup(join(dir, 'copy.db'), { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
  const thrown = new Error('progress handler failed');
  await expect(q.backup(join(dir, 'copy.db'), { onProgress: () => { throw thrown; } })).rejects.toBe(thrown);
  expect(readdirSync(dir).sort()).toEqual(files);

  // destroy() cancels a running backup with its reason.
  const running = q.backup(join(dir, 'copy.db'));
  const gone = new Error('destroyed');
  await q.destroy(gone);
  await expect(running).rejects.toBe(gone);
  expect(readdirSync(dir).filter((f) => f.startsWith('copy') || f.includes('litescribe-backup'))).toEqual([]);
}, 60_000);

test('refused destinations name what is wrong, and the queue stays usable', async () => {
  const { q, path } = await openTestQueue();
  const dir = join(path, '..');
  await q.run(INSERT, ['s', 'one']);
  const refused = async (dest: unknown, pattern: RegExp): Promise<void> => {
    const err = await q.backup(dest as string).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidOptionError);
    expect((err as Error).message).toMatch(pattern);
  };
  await refused(path, /is the database or one of its files/);
  await refused(`${path}-wal`, /is the database or one of its files/);
  await refused(join(dir, 'missing', 'copy.db'), /folder .* does not exist/);
  await refused(dir, /exists and is not a file/);
  await refused('', /a file path/);
  await refused(42, /a file path, got `42` \(number\)/);
  writeFileSync(join(dir, 'open.db-wal'), '');
  await refused(join(dir, 'open.db'), /has a -wal file beside it/);
  mkdirSync(join(dir, 'sub'));
  const { symlinkSync } = await import('node:fs');
  symlinkSync(path, join(dir, 'sub', 'alias.db'));
  await refused(join(dir, 'sub', 'alias.db'), /is the database itself/);
  await expect(q.backup(join(dir, 'x.db'), { onProgress: 5 } as never)).rejects.toThrow(/`onProgress` to be a function, got `5`/);

  // An existing file is replaced whole; close() waits for a backup still running.
  writeFileSync(join(dir, 'copy.db'), 'an older backup');
  const copying = q.backup(join(dir, 'copy.db'));
  await q.close();
  expect((await copying).path).toBe(join(dir, 'copy.db'));
  expect(reader(join(dir, 'copy.db')).prepare('SELECT content FROM messages').pluck().all()).toEqual(['one']);
});

test('a follower of a shared writer backs up the same file; backupFile copies a database no queue has open', async () => {
  const { q: leader, path } = await openTestQueue();
  const { q: follower } = await openTestQueue({ path });
  expect(follower.stats().role).toBe('follower');
  await leader.run(INSERT, ['s', 'by the leader']);
  await follower.run(INSERT, ['s', 'by the follower']);
  const dir = tempDir();
  await follower.backup(join(dir, 'from-follower.db'));
  expect(reader(join(dir, 'from-follower.db')).prepare('SELECT count(*) FROM messages').pluck().get()).toBe(2);

  await leader.close();
  await follower.close();
  const alone = await backupFile(path, join(dir, 'alone.db'));
  expect(alone.pages).toBeGreaterThan(0);
  // One self-contained file: nothing beside it.
  expect(readdirSync(dir).filter((f) => f.startsWith('alone'))).toEqual(['alone.db']);
  expect(reader(join(dir, 'alone.db')).prepare('SELECT content FROM messages ORDER BY id').pluck().all()).toEqual(['by the leader', 'by the follower']);
});

test('litescribe-backup <database> <copy>: the command-line copy, its usage and its errors', async () => {
  const { q, path } = await openTestQueue();
  await q.run(INSERT, ['s', 'from the cli']);
  const dir = tempDir();
  const bin = fileURLToPath(new URL('../dist/bin/litescribe-backup.js', import.meta.url));
  const cli = (...args: string[]): { status: number | null; stdout: string; stderr: string } => {
    const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 30_000 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const ok = cli(path, join(dir, 'copy.db'));
  expect(ok.stderr).toBe('');
  expect(ok.status).toBe(0);
  expect(ok.stdout).toMatch(/^copied \d+ bytes \(\d+ pages\) to .*copy\.db in \d+ ms\n$/);
  expect(cli(path)).toMatchObject({ status: 2, stderr: expect.stringMatching(/^usage: litescribe-backup <database> <copy>/) });
  expect(cli(join(dir, 'nope.db'), join(dir, 'b.db'))).toMatchObject({ status: 1, stderr: expect.stringMatching(/nope\.db.* does not exist/) });
  expect(readdirSync(dir)).toEqual(['copy.db']);
  expect(reader(join(dir, 'copy.db')).prepare('SELECT content FROM messages').pluck().all()).toEqual(['from the cli']);
});
