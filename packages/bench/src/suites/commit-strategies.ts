import sqlite3 from 'sqlite3';
import { DEFAULT_OPTIONS, openWriteQueue } from '@litescribe/core';
import type { BenchContext } from '../bench-context.js';
import { bestOf } from '../measure/best-of.js';
import { drivePaced, driveOpenLoop, driveSync } from '../measure/drivers.js';
import type { Driven } from '../measure/drivers.js';
import type { StrategyResult } from '../results.js';
import { strategyRow } from '../strategy-row.js';
import { INSERT_SQL, SCHEMA, openRawDatabase, pooledParams } from '../workload.js';

type Sync = 'normal' | 'full';

const openRaw = openRawDatabase;

const row = (name: string, sync: Sync, d: Driven, note?: string): StrategyResult => strategyRow('commit-strategies', name, sync, d, note);

/**
 * Suite 1: the same rows written by each commit strategy, in one run, for synchronous NORMAL and
 * FULL. Every row gets a fresh file. Ratios are to the raw one-transaction-per-1000-rows limit
 * measured just before, in the same mode.
 */
export async function commitStrategies(ctx: BenchContext): Promise<StrategyResult[]> {
  const results: StrategyResult[] = [];
  for (const sync of ['normal', 'full'] as const) {
    const slow = sync === 'full';
    const perWrite = ctx.scale(slow ? 3_000 : 30_000);
    const bulk = ctx.scale(200_000);

    ctx.progress(`commit strategies (${sync}): raw, one transaction per 1000 rows`);
    results.push(row('raw better-sqlite3, 1 tx / 1000 rows (limit)', sync, await bestOf(ctx.tries, async () => {
      const db = openRaw(ctx.freshFile(), sync);
      const insert = db.prepare(INSERT_SQL);
      const d = await driveSync(bulk, 1000, (i) => {
        if (i % 1000 === 0) db.exec('BEGIN');
        insert.run(...pooledParams(i));
        if (i % 1000 === 999 || i === bulk - 1) {
          db.exec('COMMIT');
          return true;
        }
        return false;
      });
      db.close();
      return d;
    })));

    ctx.progress(`commit strategies (${sync}): raw, autocommit per write`);
    results.push(row('raw better-sqlite3, autocommit per write', sync, await bestOf(ctx.tries, async () => {
      const db = openRaw(ctx.freshFile(), sync);
      const insert = db.prepare(INSERT_SQL);
      const d = await driveSync(perWrite, 500, (i) => {
        insert.run(...pooledParams(i));
        return true;
      });
      db.close();
      return d;
    })));

    // 512 was the default until 2048 measured better (see DEFAULT_OPTIONS.maxBatchOps).
    for (const maxBatchOps of [1, 64, 512, DEFAULT_OPTIONS.maxBatchOps, 4096]) {
      const n = maxBatchOps === 1 ? perWrite : bulk;
      ctx.progress(`commit strategies (${sync}): litescribe maxBatchOps ${maxBatchOps}`);
      const d = await bestOf(ctx.tries, async () => {
        const q = await openWriteQueue({ path: ctx.freshFile(), setup: SCHEMA, synchronous: sync, maxBatchOps });
        const driven = await driveOpenLoop(n, 1000, 65_536, (i) => q.run(INSERT_SQL, pooledParams(i)));
        await q.close();
        return driven;
      });
      results.push(row(maxBatchOps === 1 ? 'litescribe, maxBatchOps 1 (per-write commits)' : `litescribe batched, maxBatchOps ${maxBatchOps}`, sync, d));
    }

    ctx.progress(`commit strategies (${sync}): node-sqlite3 (libuv pool), autocommit per write`);
    results.push(row('node-sqlite3, autocommit per write', sync, await bestOf(ctx.tries, () => nodeSqlite3(ctx.freshFile(), sync, perWrite))));
  }

  // The responsiveness goal: batched litescribe paced at half of its measured peak.
  const peak = results.find((r) => r.synchronous === 'normal' && r.name === `litescribe batched, maxBatchOps ${DEFAULT_OPTIONS.maxBatchOps}`)!;
  const rate = Math.round(peak.opsPerSec / 2);
  ctx.progress(`commit strategies (normal): litescribe batched at half of peak (${rate} ops/s)`);
  const q = await openWriteQueue({ path: ctx.freshFile(), setup: SCHEMA });
  const paced = await drivePaced(rate, ctx.smoke ? 0.5 : 3, (i) => q.run(INSERT_SQL, pooledParams(i)));
  await q.close();
  results.push(row('litescribe batched, paced at 50% of peak', 'normal', paced, `${rate} ops/s offered`));

  for (const r of results) {
    const limit = results.find((l) => l.synchronous === r.synchronous && l.name.endsWith('(limit)'))!;
    r.ratioToLimit = r.opsPerSec / limit.opsPerSec;
  }
  return results;
}

async function nodeSqlite3(path: string, sync: Sync, n: number): Promise<Driven> {
  const db = new sqlite3.Database(path);
  const exec = (sql: string): Promise<void> => new Promise((res, rej) => db.exec(sql, (err) => (err ? rej(err) : res())));
  await exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = ${sync}; ${SCHEMA}`);
  const stmt = db.prepare(INSERT_SQL);
  const d = await driveOpenLoop(n, 1000, 65_536, (i) => new Promise<void>((res, rej) => stmt.run(pooledParams(i), (err: Error | null) => (err ? rej(err) : res()))));
  await new Promise<void>((res) => stmt.finalize(() => db.close(() => res())));
  return d;
}

