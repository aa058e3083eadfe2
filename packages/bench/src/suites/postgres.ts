import { serialize } from 'node:v8';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { openWriteQueue } from '@litescribe/core';
import type { WriteQueue } from '@litescribe/core';
import { faultyProxy, serverPids, startCluster } from '@litescribe/pg-cluster';
import { PgWriter } from '@litescribe/pg-writer';
import type { BatchTask } from '@litescribe/writer-worker';
import type { BenchContext } from '../bench-context.js';
import { LatencyRecorder } from '../measure/latency-recorder.js';
import type { PostgresResult } from '../results.js';

const INSERT = 'INSERT INTO rows (body) VALUES ($1)';
const BODY = 'x'.repeat(100);
const FAILING = 'INSERT INTO rows (id, body) VALUES (0, $1)'; // id 0 is taken before the row runs (bigserial starts at 1)

interface Measured {
  readonly ops: number;
  readonly seconds: number;
  readonly latency: LatencyRecorder | null;
  /** Main-thread busy time (event-loop utilization's `active`), in ms. */
  readonly mainActiveMs: number;
  readonly transactions: number | null;
  readonly failed: number;
  /** Rows in the table before the measured writes. */
  readonly preexisting?: number;
}

/** Runs `body` with the main thread's busy time measured around it. */
async function timed(body: () => Promise<Omit<Measured, 'seconds' | 'mainActiveMs'>>): Promise<Measured> {
  const elu = performance.eventLoopUtilization();
  const started = performance.now();
  const r = await body();
  const seconds = (performance.now() - started) / 1000;
  return { ...r, seconds, mainActiveMs: performance.eventLoopUtilization(elu).active };
}

/** `callers` concurrent callers, each awaiting one write after another, until `ms` has passed. */
async function closedLoop(callers: number, ms: number, write: () => Promise<unknown>): Promise<{ ops: number; latency: LatencyRecorder }> {
  const latency = new LatencyRecorder();
  const deadline = performance.now() + ms;
  let ops = 0;
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        await write();
        latency.recordMs(performance.now() - t0);
        ops += 1;
      }
    }),
  );
  return { ops, latency };
}

/**
 * The fault rounds' load: 16 callers, each awaiting a write of a new id (from 1,000,000 up) after
 * another until stopped. `onRejected` hears each rejection; `stop` waits for the callers and says
 * which ids were acknowledged, the longest any write waited, and how long they wrote.
 */
function keepWriting(q: WriteQueue, onRejected: (err: unknown, id: number) => void): { stop: () => Promise<{ acked: number[]; maxWaitMs: number; seconds: number }> } {
  const acked: number[] = [];
  let maxWaitMs = 0;
  let stopped = false;
  let next = 1_000_000;
  const started = performance.now();
  const callers = Array.from({ length: 16 }, async () => {
    while (!stopped) {
      const id = next++;
      const t0 = performance.now();
      try {
        await q.run('INSERT INTO rows (id, body) VALUES ($1, $2)', [id, BODY]);
        acked.push(id);
      } catch (err) {
        onRejected(err, id);
      }
      maxWaitMs = Math.max(maxWaitMs, performance.now() - t0);
    }
  });
  return {
    stop: async () => {
      stopped = true;
      await Promise.all(callers);
      return { acked, maxWaitMs, seconds: (performance.now() - started) / 1000 };
    },
  };
}

/**
 * `--only postgres`: the same rows into one throwaway PostgreSQL server (fsync on, loopback), one
 * run, side by side: what people do today (a `pg.Client` committing every write, a `pg.Pool` of 10
 * connections serving 64 concurrent callers, as a gateway does), and litescribe on PostgreSQL. Then
 * the two design questions of the PostgreSQL writer, measured: how one failing op is isolated
 * (savepoint per op, or roll back and rerun), and whether the connection lives on the main thread.
 */
export async function postgres(ctx: BenchContext): Promise<PostgresResult[]> {
  ctx.progress('postgres: starting a throwaway cluster (initdb, pg_ctl; fsync on)');
  const cluster = await startCluster();
  const results: PostgresResult[] = [];
  const admin = new pg.Client({ connectionString: cluster.url });
  await admin.connect();
  const ms = ctx.smoke ? 300 : 2_500;
  const burst = ctx.scale(30_000);
  const freshTable = async (): Promise<void> => {
    await admin.query('DROP TABLE IF EXISTS rows');
    await admin.query('CREATE TABLE rows (id bigserial PRIMARY KEY, body text NOT NULL)');
  };
  const count = async (): Promise<number> => Number((await admin.query('SELECT count(*) AS n FROM rows')).rows[0].n);
  const row = async (name: string, callers: string, run: () => Promise<Measured>, note?: string): Promise<void> => {
    let best: Measured | null = null;
    for (let attempt = 0; attempt < ctx.tries; attempt++) {
      ctx.progress(`postgres: ${name}${ctx.tries > 1 ? ` (try ${attempt + 1} of ${ctx.tries})` : ''}`);
      await freshTable();
      const m = await run();
      // Nothing lost, nothing extra: every acknowledged write is a row, and no other row exists.
      const rows = await count();
      const expected = m.ops - m.failed + (m.preexisting ?? 0);
      if (rows !== expected) throw new Error(`postgres: ${name}: ${expected} rows expected (writes acknowledged, plus any there before) but ${rows} in the table`);
      if (best === null || m.ops / m.seconds > best.ops / best.seconds) best = m;
    }
    const m = best!;
    const latency = m.latency?.summary() ?? null;
    results.push({
      name,
      callers,
      ops: m.ops,
      seconds: m.seconds,
      opsPerSec: m.ops / m.seconds,
      latencyP50Ms: latency?.p50 ?? null,
      latencyP99Ms: latency?.p99 ?? null,
      mainThreadUsPerOp: (m.mainActiveMs * 1000) / m.ops,
      opsPerTransaction: m.transactions === null ? null : m.ops / m.transactions,
      ...(note === undefined ? {} : { note }),
    });
  };
  const queue = (options: Record<string, unknown> = {}): Promise<WriteQueue> => openWriteQueue({ url: cluster.url, readers: 0, ...options });
  /** The ids in the table. */
  const presentIds = async (): Promise<Set<number>> => new Set((await admin.query<{ id: string }>('SELECT id FROM rows')).rows.map((r) => Number(r.id)));
  /** A row of a fault round: what was acknowledged over how long, and what the round found. */
  const faultRow = (name: string, acknowledged: number, seconds: number, found: Pick<PostgresResult, 'note' | 'silent' | 'commitLost'>): PostgresResult => ({
    name,
    callers: '16',
    ops: acknowledged,
    seconds,
    opsPerSec: acknowledged / seconds,
    latencyP50Ms: null,
    latencyP99Ms: null,
    mainThreadUsPerOp: 0,
    opsPerTransaction: null,
    ...found,
  });

  try {
    await row('pg.Client, a commit per write', '1', () =>
      timed(async () => {
        const client = new pg.Client({ connectionString: cluster.url });
        await client.connect();
        const { ops, latency } = await closedLoop(1, ms, () => client.query(INSERT, [BODY]));
        await client.end();
        return { ops, latency, transactions: ops, failed: 0 };
      }),
    );
    await row('pg.Pool (10 connections), a commit per write — a gateway today', '64', () =>
      timed(async () => {
        const pool = new pg.Pool({ connectionString: cluster.url, max: 10 });
        const { ops, latency } = await closedLoop(64, ms, () => pool.query(INSERT, [BODY]));
        await pool.end();
        return { ops, latency, transactions: ops, failed: 0 };
      }),
    );
    // The limit for a writer that batches: one pipelined client, 64 inserts a transaction, the
    // next transaction sent as soon as the last one committed.
    await row('pg.Client pipelined, 64-insert transactions back to back (the limit)', 'batches', () =>
      timed(async () => {
        const client = new pg.Client({ connectionString: cluster.url, pipeline: true });
        await client.connect();
        const deadline = performance.now() + ms;
        let ops = 0;
        let transactions = 0;
        while (performance.now() < deadline) {
          await Promise.all([client.query('BEGIN'), ...Array.from({ length: 64 }, () => client.query(INSERT, [BODY])), client.query('COMMIT')]);
          ops += 64;
          transactions += 1;
        }
        await client.end();
        return { ops, latency: null, transactions, failed: 0 };
      }),
    );
    for (const callers of [1, 64]) {
      await row(`litescribe on PostgreSQL, ${callers === 1 ? 'one awaiting caller' : 'awaiting callers'}`, String(callers), () =>
        timed(async () => {
          const q = await queue();
          const { ops, latency } = await closedLoop(callers, ms, () => q.run(INSERT, [BODY]));
          const { transactions } = q.stats();
          await q.close();
          return { ops, latency, transactions, failed: 0 };
        }),
      );
    }
    for (const maxBatchOps of [1, 512]) {
      await row(`litescribe on PostgreSQL, fire-and-forget, maxBatchOps ${maxBatchOps}${maxBatchOps === 1 ? ' (per-write commits)' : ''}`, 'burst', () =>
        timed(async () => {
          const q = await queue({ maxBatchOps });
          const n = maxBatchOps === 1 ? Math.round(burst / 10) : burst;
          const writes: Array<Promise<unknown>> = [];
          for (let i = 0; i < n; i++) writes.push(q.run(INSERT, [BODY]));
          await Promise.all(writes);
          const { transactions } = q.stats();
          await q.close();
          return { ops: n, latency: null, transactions, failed: 0 };
        }),
      );
    }
    // The writer itself, on this (the main) thread, fed 512-op batches: how ops are isolated from
    // one failing op, and what the protocol work costs the thread that runs it.
    for (const failureIsolation of ['rerun', 'savepoint-per-op'] as const) {
      for (const failEvery of [0, 100]) {
        const name = `PgWriter on the main thread, 512-op batches, ${failureIsolation === 'rerun' ? 'savepoints only after a failure (shipped)' : 'always a savepoint per op'}${failEvery > 0 ? `, 1 op in ${failEvery} fails` : ''}`;
        await row(name, 'batches', () =>
          timed(async () => {
            await admin.query("INSERT INTO rows (id, body) VALUES (0, 'taken')");
            const writer = new PgWriter(
              { url: cluster.url, isolation: 'read committed', busyDeadlineMs: 20_000, busyRetryMinMs: 1, busyRetryMaxMs: 4, proceduresUrl: null, noticeChannel: 'bench', statementCacheSize: 256, failureIsolation },
              () => {},
            );
            const opened = await writer.run({ kind: 'open', setup: [] });
            if (opened.kind !== 'opened') throw new Error(`postgres: PgWriter did not open: ${JSON.stringify(opened)}`);
            let failed = 0;
            let transactions = 0;
            for (let sent = 0; sent < burst; sent += 512) {
              const n = Math.min(512, burst - sent);
              const task: BatchTask = {
                kind: 'batch',
                count: n,
                bytes: n * 140,
                sql: [INSERT, FAILING],
                sqlIndex: Int32Array.from({ length: n }, (_, i) => (failEvery > 0 && (sent + i) % failEvery === failEvery - 1 ? 1 : 0)),
                params: Array.from({ length: n }, () => [BODY]),
                complex: [],
              };
              const reply = await writer.run(task);
              if (reply.kind !== 'batch-done' || !reply.committed) throw new Error(`postgres: batch did not commit: ${JSON.stringify(reply).slice(0, 300)}`);
              failed += reply.errors.length;
              transactions += 1;
            }
            await writer.run({ kind: 'close' });
            return { ops: burst, latency: null, transactions, failed, preexisting: 1 };
          }),
        );
      }
    }
    // A silent server: 16 callers writing back to back, the server SIGSTOPped (postmaster and every
    // process it started) for a while, then SIGCONT. Every wait is bounded by busyDeadlineMs.
    {
      const boundMs = 1_000;
      const stoppedMs = ctx.smoke ? 1_500 : 4_000;
      const name = `litescribe on PostgreSQL, 16 awaiting callers, the server stopped (SIGSTOP) for ${stoppedMs / 1000} s, busyDeadlineMs ${boundMs}`;
      ctx.progress(`postgres: ${name}`);
      await freshTable();
      const q = await queue({ busyDeadlineMs: boundMs });
      let rejected = 0;
      const writing = keepWriting(q, () => {
        rejected += 1;
      });
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const pids = serverPids(cluster.dataDir);
      for (const pid of pids) process.kill(pid, 'SIGSTOP');
      await new Promise((resolve) => setTimeout(resolve, stoppedMs));
      for (const pid of pids) process.kill(pid, 'SIGCONT');
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      const { acked, maxWaitMs, seconds } = await writing.stop();
      await q.close();
      const present = await presentIds();
      const lost = acked.filter((id) => !present.has(id)).length;
      results.push(
        faultRow(name, acked.length, seconds, {
          note: `longest wait ${maxWaitMs.toFixed(0)} ms, ${rejected} rejected, ${lost} acknowledged writes missing`,
          silent: { boundMs, stoppedMs, maxWaitMs, rejected, lost },
        }),
      );
    }
    // COMMIT lost in flight: 16 callers writing back to back through a proxy that cuts a connection
    // right after passing a COMMIT on (the server commits, the answer is lost) or right before (the
    // server never sees it), alternately, every 300 ms. Each cut is one batch whose COMMIT was in
    // flight; the writer asks the server what became of it.
    {
      const cutsWanted = ctx.smoke ? 2 : 10;
      const name = `litescribe on PostgreSQL, 16 awaiting callers, ${cutsWanted} connections cut with COMMIT in flight`;
      ctx.progress(`postgres: ${name}`);
      await freshTable();
      const proxy = await faultyProxy(cluster.port);
      const q = await queue({ url: cluster.url.replace(`:${cluster.port}/`, `:${proxy.port}/`) });
      const doubted: number[] = [];
      const unknown = new Set<string>();
      let notCommittedOps = 0;
      let other = '';
      const writing = keepWriting(q, (err, id) => {
        const { code, message } = err as { code?: string; message: string };
        if (code === 'ERR_NOT_COMMITTED') notCommittedOps += 1;
        else if (code === 'ERR_WORKER_EXITED') {
          doubted.push(id);
          unknown.add(message); // one message per batch: it names the transaction
        } else other ||= `${code ?? ''} ${message}`;
      });
      for (let i = 0; i < cutsWanted; i++) {
        await new Promise((resolve) => setTimeout(resolve, 300));
        const before = proxy.cuts;
        proxy.mode = i % 2 === 0 ? 'cut-after-commit' : 'cut-before-commit';
        for (const until = performance.now() + 5_000; proxy.cuts === before && performance.now() < until; ) await new Promise((resolve) => setTimeout(resolve, 5));
      }
      await new Promise((resolve) => setTimeout(resolve, 300));
      const { acked, seconds } = await writing.stop();
      await q.close();
      await proxy.close();
      if (other !== '') throw new Error(`postgres: COMMIT-cut round: an op failed otherwise: ${other}`);
      const present = await presentIds();
      const lost = acked.filter((id) => !present.has(id)).length;
      const told = new Set([...acked, ...doubted]);
      const unexplained = [...present].filter((id) => !told.has(id)).length;
      const commitLost = { cuts: proxy.cuts, unknownBatches: unknown.size, notCommittedOps, lost, unexplained };
      results.push(
        faultRow(name, acked.length, seconds, {
          note: `${commitLost.cuts} cut, ${commitLost.unknownBatches} of those batches outcome-unknown, ${notCommittedOps} ops NotCommittedError, ${lost} acknowledged missing, ${unexplained} rows nobody was told of`,
          commitLost,
        }),
      );
    }
    // runMany of 50,000 rows: one set-based statement (shipped) against a statement per row, the
    // writer on this thread, one op per batch.
    const manyRows = ctx.scale(50_000);
    for (const bulk of ['set', 'per-statement'] as const) {
      const name = `PgWriter on the main thread, runMany of ${manyRows} rows, ${bulk === 'set' ? 'one set-based statement (shipped)' : 'a statement per row'}`;
      await row(name, 'runMany', () =>
        timed(async () => {
          const writer = new PgWriter(
            { url: cluster.url, isolation: 'read committed', busyDeadlineMs: 20_000, busyRetryMinMs: 1, busyRetryMaxMs: 4, proceduresUrl: null, noticeChannel: 'bench', statementCacheSize: 256, bulk },
            () => {},
          );
          const opened = await writer.run({ kind: 'open', setup: [] });
          if (opened.kind !== 'opened') throw new Error(`postgres: PgWriter did not open: ${JSON.stringify(opened)}`);
          // As runMany sends it: the rows serialized in slices of 1,000.
          const slices: Uint8Array[] = [];
          for (let i = 0; i < manyRows; i += 1_000) slices.push(serialize(Array.from({ length: Math.min(1_000, manyRows - i) }, () => [BODY])));
          const reply = await writer.run({ kind: 'batch', count: 1, bytes: manyRows * 110, sql: [], sqlIndex: Int32Array.of(-1), params: [undefined], complex: [[0, { kind: 'many', sql: INSERT, rows: slices }]] });
          if (reply.kind !== 'batch-done' || !reply.committed || reply.errors.length > 0) throw new Error(`postgres: runMany did not commit: ${JSON.stringify(reply).slice(0, 300)}`);
          await writer.run({ kind: 'close' });
          return { ops: manyRows, latency: null, transactions: 1, failed: 0 };
        }),
      );
    }
  } finally {
    await admin.end().catch(() => {});
    await cluster.remove();
  }
  return results;
}

