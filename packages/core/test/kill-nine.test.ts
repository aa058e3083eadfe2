import Database from 'better-sqlite3';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { spawnFixture, tempDir } from './helpers.js';

// The process-crash promise of synchronous 'normal': every write whose promise resolved survives
// SIGKILL at any moment. (Power loss needs synchronous 'full'; see README, Durability.)
test('SIGKILL at random moments: the file stays intact and every acknowledged write is in it', async () => {
  const path = join(tempDir(), 'kill.db');
  const acknowledged: number[] = [];
  for (let round = 0; round < 6; round++) {
    const child = spawnFixture('killable-writer.mjs', [path, String(round * 1_000_000 + 1)]);
    await child.waitForLine(/^ready$/);
    await new Promise((r) => setTimeout(r, 50 + Math.random() * 400));
    child.proc.kill('SIGKILL');
    await child.exited;
    const ids = child.lines.filter((l) => /^\d+$/.test(l)).map(Number);
    expect(ids.length).toBeGreaterThan(0);
    acknowledged.push(...ids);

    const db = new Database(path);
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      const present = new Set(db.prepare('SELECT id FROM messages').pluck().all() as number[]);
      const missing = ids.filter((id) => !present.has(id));
      expect(missing).toEqual([]);
    } finally {
      db.close();
    }
  }
  console.log(`6 kills, ${acknowledged.length} acknowledged writes, all present`);
});
