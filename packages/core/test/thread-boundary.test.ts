import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import { openTestQueue, spawnFixture, tempDir } from './helpers.js';

test('the main thread never loads SQLite: better-sqlite3 is only ever loaded by the writer thread', async () => {
  const child = spawnFixture('main-thread-modules.mjs', [join(tempDir(), 'm.db')]);
  await expect(child.exited).resolves.toBe(0);
  const report = JSON.parse(child.lines.find((l) => l.startsWith('{'))!) as { loaded: string[] };
  expect(report.loaded).toEqual([]);
});

test('no file of the built core imports better-sqlite3', () => {
  const dist = fileURLToPath(new URL('../dist/', import.meta.url));
  const files = readdirSync(dist).filter((f) => f.endsWith('.js'));
  expect(files.length).toBeGreaterThan(5);
  for (const f of files) expect(readFileSync(join(dist, f), 'utf8')).not.toMatch(/from ['"]better-sqlite3['"]|require\(['"]better-sqlite3['"]\)/);
});

test('a database the queue creates is readable and writable by its owner only, WAL and SHM too', async () => {
  const { q, path } = await openTestQueue();
  await q.run('INSERT INTO messages(session_id, content) VALUES (?, ?)', ['s', 'secret']);
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    expect((statSync(file).mode & 0o777).toString(8)).toBe('600');
  }
});
