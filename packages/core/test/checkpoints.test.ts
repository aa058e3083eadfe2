import { existsSync, statSync } from 'node:fs';
import { expect, test } from 'vitest';
import type { CheckpointReport } from '@litescribe/core';
import { openTestQueue, reader } from './helpers.js';

const INSERT = 'INSERT INTO messages(session_id, content) VALUES (?, ?)';

test('a PASSIVE checkpoint runs every checkpointEveryCommits commits and reports its figures', async () => {
  const { q } = await openTestQueue({ checkpointEveryCommits: 5, checkpointMinIntervalMs: 0 });
  const reports: CheckpointReport[] = [];
  q.on('checkpoint', (r) => reports.push(r));
  for (let i = 0; i < 20; i++) await q.run(INSERT, ['s', `m${i}`]);
  await q.flush();
  // 20 sequential commits, one checkpoint every 5: the 4th is sent before the next batch, so >= 3.
  expect(reports.length).toBeGreaterThanOrEqual(3);
  for (const r of reports) {
    expect(r).toMatchObject({ mode: 'passive', reason: 'interval', busy: false, escalated: false });
    expect(r.walFrames).toBeGreaterThan(0);
    expect(r.checkpointedFrames).toBe(r.walFrames);
    expect(r.durationMs).toBeGreaterThanOrEqual(0);
  }
  expect(q.stats().checkpoints).toBe(reports.length);
});

test('under the target WAL size, periodic checkpoints are at least checkpointMinIntervalMs apart however fast commits come', async () => {
  // A target far away: over it, checkpoints come by the WAL's size, with no interval.
  const { q } = await openTestQueue({ checkpointEveryCommits: 5, checkpointMinIntervalMs: 100, walTargetBytes: 128 * 1024 * 1024, walSoftLimitBytes: 256 * 1024 * 1024 });
  const reports: CheckpointReport[] = [];
  q.on('checkpoint', (r) => reports.push(r));
  const started = performance.now();
  // Small commits for at least 350 ms: by the commit count alone, one checkpoint every 5 of them.
  let commits = 0;
  while (performance.now() - started < 350 || commits < 100) await q.run(INSERT, ['s', `m${commits++}`]);
  const elapsedMs = performance.now() - started;
  await q.flush();
  const periodic = reports.filter((r) => r.reason === 'interval');
  expect(periodic.length).toBeGreaterThan(0);
  expect(periodic.length).toBeLessThanOrEqual(Math.ceil(elapsedMs / 100) + 1);
  expect(periodic.length).toBeLessThan(commits / 5);
});

test('with no checkpoint due, commits do not checkpoint (SQLite autocheckpoint is off)', async () => {
  const { q, path } = await openTestQueue({ checkpointEveryCommits: 1_000_000 });
  const reports: CheckpointReport[] = [];
  q.on('checkpoint', (r) => reports.push(r));
  // ~2 000 pages of commits: SQLite's default autocheckpoint (1 000 pages) would have run by now.
  const big = 'w'.repeat(3_000);
  for (let i = 0; i < 40; i++) await Promise.all(Array.from({ length: 50 }, (_, j) => q.run(INSERT, ['s', `${big}${i}-${j}`])));
  expect(reports).toEqual([]);
  const walFrames = statSync(`${path}-wal`).size / 4120;
  expect(walFrames).toBeGreaterThan(1_000);
});

test('over walSoftLimitBytes the checkpoint escalates to TRUNCATE and the WAL shrinks', async () => {
  const { q, path } = await openTestQueue({ walSoftLimitBytes: 256 * 1024, checkpointEveryCommits: 1_000_000 });
  const reports: CheckpointReport[] = [];
  q.on('checkpoint', (r) => reports.push(r));
  const big = 'w'.repeat(3_000);
  for (let i = 0; i < 10; i++) await Promise.all(Array.from({ length: 30 }, (_, j) => q.run(INSERT, ['s', `${big}${i}-${j}`])));
  await q.checkpoint('passive'); // a barrier: the escalation ran before this request
  const escalated = reports.find((r) => r.escalated);
  expect(escalated).toMatchObject({ mode: 'truncate', reason: 'wal-limit', busy: false });
  expect(escalated!.walBytesBefore).toBeGreaterThan(256 * 1024);
  expect(escalated!.walBytesAfter).toBe(0);
});

test('over walTargetBytes the periodic checkpoint is a TRUNCATE: the WAL file goes back to empty', async () => {
  const { q } = await openTestQueue({ walTargetBytes: 64 * 1024, checkpointEveryCommits: 10 });
  const reports: CheckpointReport[] = [];
  q.on('checkpoint', (r) => reports.push(r));
  const big = 'w'.repeat(3_000);
  for (let i = 0; i < 30; i++) await q.run(INSERT, ['s', `${big}${i}`]);
  await q.flush();
  const truncations = reports.filter((r) => r.mode === 'truncate');
  expect(truncations.length).toBeGreaterThan(0);
  for (const r of truncations) {
    expect(r).toMatchObject({ reason: 'interval', escalated: true, busy: false, walBytesAfter: 0 });
    expect(r.walBytesBefore).toBeGreaterThan(64 * 1024);
  }
});

test('a checkpoint that finds the database busy is reported, not thrown', async () => {
  const { q, path } = await openTestQueue({ checkpointWaitMs: 50 });
  await q.run(INSERT, ['s', 'a']);
  const db = reader(path);
  db.exec('BEGIN');
  db.prepare('SELECT count(*) FROM messages').get(); // holds a snapshot that needs the WAL
  await q.run(INSERT, ['s', 'b']);
  const report = await q.checkpoint('truncate');
  expect(report).toMatchObject({ mode: 'truncate', reason: 'request', busy: true });
  db.exec('COMMIT');
  const after = await q.checkpoint('truncate');
  expect(after.busy).toBe(false);
  expect(after.walBytesAfter).toBe(0);
});

test('close() ends with a TRUNCATE checkpoint: the WAL is empty afterwards', async () => {
  const { q, path } = await openTestQueue();
  const reports: CheckpointReport[] = [];
  q.on('checkpoint', (r) => reports.push(r));
  await Promise.all(Array.from({ length: 100 }, (_, i) => q.run(INSERT, ['s', `m${i}`])));
  expect(statSync(`${path}-wal`).size).toBeGreaterThan(0);
  await q.close();
  expect(reports.at(-1)).toMatchObject({ mode: 'truncate', reason: 'close', busy: false, walBytesAfter: 0 });
  expect(existsSync(`${path}-wal`) ? statSync(`${path}-wal`).size : 0).toBe(0);
});

test('while a burst is queued, periodic checkpoints wait until the WAL passes half the soft limit', async () => {
  const { q } = await openTestQueue({ walTargetBytes: 256 * 1024, walSoftLimitBytes: 4 * 1024 * 1024, checkpointEveryCommits: 10, maxBatchOps: 20 });
  const reports: CheckpointReport[] = [];
  q.on('checkpoint', (r) => reports.push(r));
  const big = 'w'.repeat(1_000);
  // 4,000 rows issued at once: 200 commits of 20 (~100 KiB of WAL each), the rest of the burst
  // queued behind each. Without a queue behind them, they would checkpoint every 5 commits once
  // past 256 KiB (at 300–500 KiB); in the burst, not before 2 MiB.
  await Promise.all(Array.from({ length: 4_000 }, (_, i) => q.run(INSERT, ['s', `${big}${i}`])));
  const duringBurst = reports.length;
  expect(q.stats().transactions).toBeGreaterThanOrEqual(190);
  expect(duringBurst).toBeGreaterThan(0); // the WAL stays bounded in a burst too
  // The last checkpoint may be the one sent as the burst drained (the last batch queued alone),
  // under the ordinary rule; every one before it waited for 2 MiB.
  const passes = reports.filter((r) => r.mode === 'passive');
  expect(passes.length).toBeGreaterThan(1);
  for (const r of passes.slice(0, -1)) expect(r.walBytesBefore).toBeGreaterThan(2 * 1024 * 1024);
});

test('a burst that ends short of half the soft limit checkpoints as soon as it has drained', async () => {
  const { q } = await openTestQueue({ walTargetBytes: 256 * 1024, walSoftLimitBytes: 4 * 1024 * 1024, checkpointEveryCommits: 50, maxBatchOps: 20 });
  const reports: CheckpointReport[] = [];
  q.on('checkpoint', (r) => reports.push(r));
  const big = 'w'.repeat(1_000);
  // 8 commits of ~100 KiB: past the target, short of 2 MiB, far from 50 commits.
  await Promise.all(Array.from({ length: 160 }, (_, i) => q.run(INSERT, ['s', `${big}${i}`])));
  await q.checkpoint('passive'); // a barrier: a periodic checkpoint sent before it has reported
  const periodic = reports.filter((r) => r.reason === 'interval');
  expect(periodic.map((r) => r.mode)).toEqual(['passive', 'truncate']);
  expect(periodic[0]!.walBytesBefore).toBeGreaterThan(256 * 1024);
});

test('over walTargetBytes, writes that do not queue up checkpoint ten times as often as checkpointEveryCommits', async () => {
  const { q } = await openTestQueue({ walTargetBytes: 16 * 1024, checkpointEveryCommits: 50 });
  const reports: CheckpointReport[] = [];
  q.on('checkpoint', (r) => reports.push(r));
  const big = 'w'.repeat(3_000);
  // 40 commits one after another: without the faster rule none would be due (50 commits).
  for (let i = 0; i < 40; i++) await q.run(INSERT, ['s', `${big}${i}`]);
  await q.checkpoint('passive');
  expect(reports.filter((r) => r.reason === 'interval').length).toBeGreaterThanOrEqual(4);
});
