import { writeFileSync } from 'node:fs';
import { openWriteQueue } from '@litescribe/core';
import type { BenchContext } from '../bench-context.js';
import { runChild } from '../measure/child.js';
import { WalWatch } from '../measure/wal-watch.js';
import type { WalReaderResult } from '../results.js';
import { SCHEMA, messageParams } from '../workload.js';

const INSERT_BIG = 'INSERT INTO messages(session_id, role, content, timestamp) VALUES (?, ?, ?, ?)';

/**
 * Suite 4: the queue writes far more than the WAL soft limit while another process keeps a read
 * transaction open almost all the time. PASSIVE-only checkpoints (the soft limit set out of reach)
 * against the queue's policy (PASSIVE, then TRUNCATE over the soft limit).
 */
export async function walReader(ctx: BenchContext): Promise<WalReaderResult[]> {
  const softLimitBytes = ctx.smoke ? 512 * 1024 : 8 * 1024 * 1024;
  const bytesTarget = softLimitBytes * 6;
  const rowBytes = 2_000;
  const rows = Math.ceil(bytesTarget / rowBytes);
  const filler = 'r'.repeat(rowBytes - 200);
  const results: WalReaderResult[] = [];
  for (const policy of ['passive-only', 'litescribe'] as const) {
    ctx.progress(`WAL under a never-idle reader: ${policy}, ${(bytesTarget / 2 ** 20).toFixed(0)} MiB of rows`);
    const path = ctx.freshFile();
    const q = await openWriteQueue({
      path,
      setup: SCHEMA,
      // Out of reach: checkpoints stay PASSIVE and never escalate.
      walSoftLimitBytes: policy === 'passive-only' ? 2 ** 40 : softLimitBytes,
      walTargetBytes: policy === 'passive-only' ? 2 ** 40 : softLimitBytes / 2,
    });
    let escalations = 0;
    q.on('checkpoint', (r) => (escalations += r.escalated ? 1 : 0));
    const stopFile = `${path}.stop`;
    const reader = runChild('never-idle-reader.js', [path, '20', stopFile, '120000']);
    await reader.saw('reading');
    const wal = new WalWatch(path, 5);
    for (let i = 0; i < rows; i += 200) {
      const batch: Array<Promise<unknown>> = [];
      for (let j = i; j < Math.min(rows, i + 200); j++) {
        const [s, r, c, t] = messageParams(j);
        batch.push(q.run(INSERT_BIG, [s, r, c + filler, t]));
      }
      await Promise.all(batch);
    }
    const walPeakBytes = wal.stop();
    await q.close();
    writeFileSync(stopFile, '');
    const out = await reader.done;
    const { transactions } = JSON.parse(out.find((l) => l.startsWith('{'))!) as { transactions: number };
    results.push({ policy, softLimitBytes, bytesWritten: rows * rowBytes, walPeakBytes, escalations, readerTransactions: transactions });
  }
  return results;
}
