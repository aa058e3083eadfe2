import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import client from 'prom-client';
import { expect, test } from 'vitest';
import { openWriteQueue } from '@litescribe/core';
// @ts-expect-error the example is plain JavaScript
import { registerLitescribeMetrics } from '../metrics.mjs';

test('stats() and the diagnostics events come out as Prometheus metrics', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'litescribe-prom-'));
  const q = await openWriteQueue({ path: join(dir, 'm.db'), setup: 'CREATE TABLE t (x INTEGER UNIQUE)' });
  const registry = new client.Registry();
  const stop = (await registerLitescribeMetrics(q, registry)) as () => Promise<void>;
  try {
    await Promise.allSettled([...Array.from({ length: 500 }, (_, i) => q.run('INSERT INTO t VALUES (?)', [i])), q.run('INSERT INTO t VALUES (?)', [0])]);
    await q.checkpoint('passive');
    const text = await registry.metrics();
    const value = (name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
    expect(value('litescribe_ops_committed')).toBe(500);
    expect(value('litescribe_ops_failed')).toBe(1);
    expect(value('litescribe_batch_ops_sum')).toBe(501);
    expect(value('litescribe_batch_ops_count')).toBe(q.stats().transactions);
    expect(value('litescribe_batch_commit_seconds_count')).toBe(q.stats().transactions);
    expect(text).toMatch(/^litescribe_checkpoints_total\{mode="passive",busy="false"\} 1$/m);
  } finally {
    await stop();
    await q.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
