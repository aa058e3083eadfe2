import { statSync, writeFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import type { CheckpointReport } from '@litescribe/core';
import { openTestQueue, spawnFixture } from './helpers.js';

const SOFT_LIMIT = 1024 * 1024;

/** Writes `bytes` of rows through the queue while a reader process keeps snapshots open; returns the WAL's peak. */
async function writeUnderReader(walSoftLimitBytes: number, bytes: number): Promise<{ peak: number; reports: CheckpointReport[]; readerTxns: number }> {
  // Target = soft limit: with both out of reach, the periodic checkpoint is PASSIVE and nothing else.
  const { q, path } = await openTestQueue({ walSoftLimitBytes, walTargetBytes: walSoftLimitBytes, maxBatchOps: 16 });
  const reports: CheckpointReport[] = [];
  q.on('checkpoint', (r) => reports.push(r));
  await q.run('INSERT INTO messages(session_id, content) VALUES (?, ?)', ['seed', 'seed']);
  const stop = `${path}.stop`;
  const reader = spawnFixture('never-idle-reader.mjs', [path, '15', stop]);
  await reader.waitForLine(/^reading$/);
  let peak = 0;
  const sample = (): void => {
    peak = Math.max(peak, statSync(`${path}-wal`, { throwIfNoEntry: false })?.size ?? 0);
  };
  const poll = setInterval(sample, 2);
  const filler = 'w'.repeat(4_000);
  for (let i = 0; i * 4_000 < bytes; i += 16) {
    await Promise.all(Array.from({ length: 16 }, (_, j) => q.run('INSERT INTO messages(session_id, content) VALUES (?, ?)', ['w', `${i + j}-${filler}`])));
    sample();
  }
  clearInterval(poll);
  writeFileSync(stop, '');
  const readerTxns = Number((await reader.waitForLine(/^transactions \d+$/)).split(' ')[1]);
  return { peak, reports, readerTxns };
}

test('a reader that never lets go: the WAL stays within 2x the soft limit, escalations reported; PASSIVE alone does not hold it', async () => {
  const written = 8 * SOFT_LIMIT;
  const policy = await writeUnderReader(SOFT_LIMIT, written);
  const passiveOnly = await writeUnderReader(2 ** 40, written); // never escalates: PASSIVE only
  console.log(
    `wrote ${written / 2 ** 20} MiB under a never-idle reader: WAL peak ${(policy.peak / 2 ** 20).toFixed(2)} MiB with escalation ` +
      `(${policy.reports.filter((r) => r.escalated).length} escalations, reader ran ${policy.readerTxns} txns) vs ` +
      `${(passiveOnly.peak / 2 ** 20).toFixed(2)} MiB with PASSIVE only (reader ran ${passiveOnly.readerTxns} txns)`,
  );
  expect(policy.readerTxns).toBeGreaterThan(10);
  expect(policy.peak).toBeLessThanOrEqual(2 * SOFT_LIMIT);
  const escalated = policy.reports.filter((r) => r.escalated);
  expect(escalated.length).toBeGreaterThan(0);
  expect(escalated.some((r) => !r.busy && r.walBytesAfter === 0)).toBe(true);
  expect(passiveOnly.reports.every((r) => !r.escalated)).toBe(true);
  expect(passiveOnly.peak).toBeGreaterThan(4 * SOFT_LIMIT);
});
