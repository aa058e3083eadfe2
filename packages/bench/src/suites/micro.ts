import { statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { Bench } from 'tinybench';
import { openWriteQueue } from '@litescribe/core';
import type { BenchContext } from '../bench-context.js';
import type { MicroResult } from '../results.js';
import { INSERT_SQL, SCHEMA, pooledParams } from '../workload.js';

const PER_ITERATION = 1000;

/** Micro rows the goals compare. */
export const GUARD_ROW = 'writer: file generation guard, per batch — stat the database before BEGIN, it and its -wal after COMMIT';
export const ONE_OP_TRANSACTION = 'writer: a one-op transaction — BEGIN IMMEDIATE, one INSERT, COMMIT (synchronous normal)';

/**
 * In-process micro-benchmarks (tinybench): where the microseconds of one queued write go, and on
 * which thread. Each iteration handles 1000 ops; figures are per op.
 */
export async function micro(ctx: BenchContext): Promise<MicroResult[]> {
  ctx.progress('micro-benchmarks (tinybench): cost per op on each thread');
  const params = Array.from({ length: PER_ITERATION }, (_, i) => pooledParams(i));
  const q = await openWriteQueue({ path: ctx.freshFile(), setup: SCHEMA, maxQueue: 1 << 20 });
  const rawPath = ctx.freshFile();
  const raw = new Database(rawPath);
  raw.pragma('journal_mode = WAL');
  raw.pragma('synchronous = NORMAL');
  raw.exec(SCHEMA);
  const insert = raw.prepare(INSERT_SQL);
  // The shapes of @litescribe/writer-worker's BatchTask and BatchDone for 1000 plain run() ops.
  const batchMessage = { kind: 'batch', count: PER_ITERATION, bytes: 0, sql: [INSERT_SQL], sqlIndex: new Int32Array(PER_ITERATION), params, complex: [] };
  const outcomes = { kind: 'batch-done', committed: true, changes: new Float64Array(PER_ITERATION), rowids: new Float64Array(PER_ITERATION), values: [], errors: [] };

  const bench = new Bench({ time: ctx.smoke ? 100 : 600, warmupTime: ctx.smoke ? 20 : 100 });
  let pending: Array<Promise<unknown>> = [];
  bench
    .add('main: run() call — validate, copy params, enqueue', () => {
      for (let i = 0; i < PER_ITERATION; i++) pending.push(q.run(INSERT_SQL, params[i]));
    }, {
      // Draining is not part of the call's cost: the writer does it on its own thread.
      afterEach: async () => {
        await Promise.all(pending);
        pending = [];
      },
    })
    .add('thread hop: structured clone of the batch message and its reply', () => {
      structuredClone(batchMessage);
      structuredClone(outcomes);
    })
    .add(GUARD_ROW, () => {
      // What the guard adds to a batch (WriterConnection.databaseFileProblem, generationProblem):
      // three stats, one of which also gives the WAL size the reply carries (a stat the writer
      // made before the guard at most once per 5 ms). Per iteration 1000 batches' worth: the figure
      // is per batch, not per op.
      for (let i = 0; i < PER_ITERATION; i++) {
        statSync(rawPath, { throwIfNoEntry: false });
        statSync(rawPath, { throwIfNoEntry: false });
        statSync(`${rawPath}-wal`, { throwIfNoEntry: false });
      }
    })
    .add(ONE_OP_TRANSACTION, () => {
      // The cheapest batch there is, for scale: the guard's three stats are added to each one.
      for (let i = 0; i < PER_ITERATION; i++) {
        raw.exec('BEGIN IMMEDIATE');
        insert.run(...params[i]!);
        raw.exec('COMMIT');
      }
    })
    .add('writer: one INSERT inside an open transaction (better-sqlite3)', () => {
      raw.exec('BEGIN');
      for (let i = 0; i < PER_ITERATION; i++) insert.run(...params[i]!);
      raw.exec('COMMIT');
    });
  await bench.run();
  await q.close();
  raw.close();
  return bench.tasks.map((task) => {
    const r = task.result;
    if (r.state !== 'completed') throw new Error(`micro-benchmark ${task.name} did not complete: ${r.state}`);
    return {
      name: task.name,
      thread: task.name.startsWith('writer') ? 'writer' : 'main',
      nsPerOp: (r.latency.mean * 1e6) / PER_ITERATION,
      rme: r.latency.rme,
    } satisfies MicroResult;
  });
}
