import { statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { openWriteQueue } from '@litescribe/core';
import type { BenchContext } from '../bench-context.js';
import type { BackupResult } from '../results.js';

const CALLERS = 64;
const INSERT = 'INSERT INTO events(caller, seq, body) VALUES (?, ?, ?)';

/**
 * A backup while writing (`--only backup`): a file of ~200 MiB (10 in a smoke run), 64 callers
 * each awaiting 200-byte inserts back to back, and `q.backup()` taken in the middle. The callers'
 * rate and the longest gap between two acknowledged writes are measured during the backup and in
 * windows of the same length before and after it, in one run; then the copy is opened and checked
 * for every write acknowledged before the backup began.
 */
export async function backup(ctx: BenchContext): Promise<BackupResult[]> {
  const results: BackupResult[] = [];
  const mib = ctx.smoke ? 10 : 200;
  for (let round = 0; round < ctx.tries; round++) {
    ctx.progress(`backup: ${mib} MiB file, ${CALLERS} callers writing, round ${round + 1}`);
    const path = ctx.freshFile();
    const seed = new Database(path);
    seed.pragma('journal_mode = WAL');
    seed.exec('CREATE TABLE bulk (id INTEGER PRIMARY KEY, body TEXT NOT NULL); CREATE TABLE events (id INTEGER PRIMARY KEY, caller INTEGER NOT NULL, seq INTEGER NOT NULL, body TEXT NOT NULL)');
    const fill = seed.prepare('INSERT INTO bulk(body) VALUES (?)');
    const row = 'x'.repeat(1000);
    seed.transaction(() => {
      for (let i = 0; i < Math.ceil((mib * 2 ** 20) / 900); i++) fill.run(row);
    })();
    seed.close();
    const fileBytes = statSync(path).size;

    const q = await openWriteQueue({ path, shareWriter: 'off' });
    const acks: number[] = [];
    const lastSeq = new Int32Array(CALLERS).fill(-1);
    let writing = true;
    const body = 'y'.repeat(200);
    const callers = Array.from({ length: CALLERS }, async (_, c) => {
      for (let seq = 0; writing; seq++) {
        await q.run(INSERT, [c, seq, body]);
        lastSeq[c] = seq;
        acks.push(performance.now());
      }
    });
    // Warm up, then a window before, the backup, and a window after of the backup's length.
    const warmUntil = performance.now() + (ctx.smoke ? 200 : 1_000);
    while (performance.now() < warmUntil) await new Promise((r) => setTimeout(r, 20));
    const beforeStart = performance.now();
    const guess = ctx.smoke ? 300 : 2_000;
    await new Promise((r) => setTimeout(r, guess));
    const ackedBefore = Int32Array.from(lastSeq);
    const backupStart = performance.now();
    const dest = `${path}.copy`;
    await q.backup(dest);
    const backupEnd = performance.now();
    const walBytesAfter = statSync(`${path}-wal`, { throwIfNoEntry: false })?.size ?? 0;
    const backupMs = backupEnd - backupStart;
    await new Promise((r) => setTimeout(r, backupMs));
    const afterEnd = performance.now();
    writing = false;
    await Promise.all(callers);
    await q.close();

    const copy = new Database(dest, { readonly: true });
    const integrity = copy.pragma('integrity_check', { simple: true }) as string;
    const seqs = copy.prepare('SELECT caller, max(seq) AS top FROM events GROUP BY caller').all() as Array<{ caller: number; top: number }>;
    copy.close();
    const top = new Map(seqs.map((s) => [s.caller, s.top]));
    let missing = 0;
    for (let c = 0; c < CALLERS; c++) missing += Math.max(0, ackedBefore[c]! - (top.get(c) ?? -1));

    const rate = (from: number, to: number): number => (acks.filter((t) => t >= from && t < to).length * 1000) / (to - from);
    const longestGap = (from: number, to: number): number => {
      let prev = from;
      let gap = 0;
      for (const t of acks) {
        if (t < from) continue;
        if (t >= to) break;
        gap = Math.max(gap, t - prev);
        prev = t;
      }
      return Math.max(gap, to - prev);
    };
    results.push({
      fileBytes,
      backupMs,
      callers: CALLERS,
      // The same length of window before as during (the last `backupMs` before the backup began).
      opsPerSecBefore: rate(Math.max(beforeStart, backupStart - backupMs), backupStart),
      opsPerSecDuring: rate(backupStart, backupEnd),
      opsPerSecAfter: rate(backupEnd, afterEnd),
      longestGapBeforeMs: longestGap(Math.max(beforeStart, backupStart - backupMs), backupStart),
      longestGapDuringMs: longestGap(backupStart, backupEnd),
      longestGapAfterMs: longestGap(backupEnd, afterEnd),
      walBytesAfter,
      integrity,
      missing,
    });
    ctx.discardFiles();
  }
  return results;
}
