import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { Worker } from 'node:worker_threads';
import PQueue from 'p-queue';
import { openWriteQueue } from '@litescribe/core';
import type { BenchContext } from '../bench-context.js';
import { bestOf } from '../measure/best-of.js';
import { runChild } from '../measure/child.js';
import { driveOpenLoop, withCpu } from '../measure/drivers.js';
import type { Driven } from '../measure/drivers.js';
import { LatencyRecorder } from '../measure/latency-recorder.js';
import { withLoopDelay } from '../measure/loop-delay.js';
import type { BenchResults, StrategyResult } from '../results.js';
import { strategyRow } from '../strategy-row.js';
import { INSERT_SQL, SCHEMA, pooledParams } from '../workload.js';

const row = (name: string, d: Driven, note?: string): StrategyResult => strategyRow('caller-shapes', name, 'normal', d, note);

/**
 * Suite 2: how callers use the queue. Fire-and-forget bulk; 64 concurrent callers each awaiting its
 * own write; one caller awaiting each write in turn, beside a bare postMessage echo measured in the
 * same run, so the queue's own cost per round trip is visible.
 */
export async function callerShapes(ctx: BenchContext): Promise<{ shapes: StrategyResult[]; roundTrip: BenchResults['roundTrip'] }> {
  const shapes: StrategyResult[] = [];

  ctx.progress('caller shapes: fire-and-forget');
  let q = await openWriteQueue({ path: ctx.freshFile(), setup: SCHEMA });
  shapes.push(row('fire-and-forget', await withCpu(() => driveOpenLoop(ctx.scale(200_000), 1000, 65_536, (i) => q.run(INSERT_SQL, pooledParams(i))))));
  await q.close();

  ctx.progress('caller shapes: 64 concurrent callers, each awaiting its write');
  q = await openWriteQueue({ path: ctx.freshFile(), setup: SCHEMA });
  const n64 = ctx.scale(100_000);
  const callers = new PQueue({ concurrency: 64 });
  const lat64 = new LatencyRecorder();
  const started = performance.now();
  const cpu64 = process.cpuUsage();
  const { loopDelay } = await withLoopDelay(async () => {
    for (let i = 0; i < n64; i++) {
      void callers.add(async () => {
        const t0 = performance.now();
        await q.run(INSERT_SQL, pooledParams(i));
        lat64.recordMs(performance.now() - t0);
      });
      if (i % 1000 === 999) await callers.onSizeLessThan(1000);
    }
    await callers.onIdle();
  });
  const used64 = process.cpuUsage(cpu64);
  shapes.push(row('64 concurrent callers', { ops: n64, seconds: (performance.now() - started) / 1000, latency: lat64.summary(), loopDelay, cpuUs: used64.user + used64.system }));
  await q.close();

  ctx.progress('caller shapes: one caller awaiting each write, and a bare thread round trip');
  const nSeq = ctx.scale(5_000);
  const echo = await bestOf(ctx.tries, () => bareEcho(nSeq));
  // The default (a lone process leads its file: its writer's event loop stays live for followers)
  // and shareWriter 'off' (a writer thread parked between tasks), side by side.
  const awaitingEach = (shareWriter: 'auto' | 'off') => bestOf(ctx.tries, async () => {
    const queue = await openWriteQueue({ path: ctx.freshFile(), setup: SCHEMA, shareWriter });
    const latency = new LatencyRecorder();
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const { loopDelay: seqDelay } = await withLoopDelay(async () => {
      for (let i = 0; i < nSeq; i++) {
        const t1 = performance.now();
        await queue.run(INSERT_SQL, pooledParams(i));
        latency.recordMs(performance.now() - t1);
      }
    });
    const seconds = (performance.now() - t0) / 1000;
    const used = process.cpuUsage(cpu0);
    await queue.close();
    return { ops: nSeq, seconds, latency: latency.summary(), loopDelay: seqDelay, cpuUs: used.user + used.system };
  });
  const seq = await awaitingEach('auto');
  const seqRow = row('1 caller awaiting each write', seq);
  shapes.push(seqRow);
  shapes.push(row("1 caller awaiting each write, shareWriter 'off'", await awaitingEach('off')));
  shapes.push(row('bare postMessage echo (no SQLite)', echo));
  shapes.push(row('bare Unix-socket echo to another process (no SQLite; CPU of both)', await bestOf(ctx.tries, () => socketEcho(nSeq))));

  // A burst (a TUI importing a file): the same rows issued as one run() each, and as one runMany().
  const nBurst = ctx.scale(50_000);
  for (const how of ['run() per row', 'runMany()'] as const) {
    ctx.progress(`caller shapes: a burst of ${nBurst} rows, ${how}`);
    const burst = await bestOf(ctx.tries, async () => {
      const queue = await openWriteQueue({ path: ctx.freshFile(), setup: SCHEMA });
      const rows = Array.from({ length: nBurst }, (_, i) => pooledParams(i));
      let issueMs = 0;
      const t0 = performance.now();
      const { loopDelay: burstDelay } = await withLoopDelay(async () => {
        // A timer keeps firing meanwhile, as a UI's frame timer does: its lateness is the freeze.
        const frames = setInterval(() => {}, 16);
        try {
          const issued = performance.now();
          const done = how === 'runMany()' ? queue.runMany(INSERT_SQL, rows) : Promise.all(rows.map((p) => queue.run(INSERT_SQL, p)));
          issueMs = performance.now() - issued;
          await done;
        } finally {
          clearInterval(frames);
        }
      });
      const seconds = (performance.now() - t0) / 1000;
      await queue.close();
      const latency = new LatencyRecorder();
      latency.recordMs(seconds * 1000);
      return { ops: nBurst, seconds, latency: latency.summary(), loopDelay: burstDelay, issueMs };
    });
    shapes.push({ ...row(`burst of ${nBurst} rows, ${how}`, burst, `issuing took ${burst.issueMs.toFixed(1)} ms of the caller's turn; latency = time to durable`), issueMs: burst.issueMs });
  }
  shapes.push(await settlingAcrossTurns(ctx));
  const bareEchoP50Ms = echo.latency.p50;
  return { shapes, roundTrip: { bareEchoP50Ms, queueP50Ms: seqRow.latency.p50, ratio: seqRow.latency.p50 / bareEchoP50Ms } };
}

/**
 * What a follower's write costs at least: a ~300-byte message to another process over a local
 * socket and back, one at a time; CPU of both processes (the echoing one reports its own).
 */
async function socketEcho(n: number): Promise<Driven> {
  const name = `litescribe-bench-echo-${process.pid}-${randomBytes(4).toString('hex')}`;
  const child = runChild('socket-echo.js', [name]);
  await child.saw('listening');
  const socket = connect({ path: `\0${name}` });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let pending: ((data: Buffer) => void) | null = null;
  socket.on('data', (d: Buffer) => pending?.(d));
  const ask = (payload: Buffer): Promise<Buffer> => new Promise((resolve) => {
    pending = resolve;
    socket.write(payload);
  });
  const childCpu = async (): Promise<number> => (JSON.parse((await ask(Buffer.of(0xff))).toString()) as { cpuUs: number }).cpuUs;
  const payload = Buffer.alloc(300, 0x61);
  for (let i = 0; i < 200; i++) await ask(payload); // warm up
  const theirs = await childCpu();
  const mine = await roundTrips(n, () => ask(payload));
  const theirsAfter = await childCpu();
  socket.destroy();
  child.kill('SIGTERM');
  await child.done;
  return { ...mine, cpuUs: mine.cpuUs + (theirsAfter - theirs) };
}

/** `n` round trips one after another: wall time, latency of each, and this process's CPU time. */
async function roundTrips(n: number, trip: (i: number) => Promise<unknown>): Promise<Driven & { cpuUs: number }> {
  const latency = new LatencyRecorder();
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await trip(i);
    latency.recordMs(performance.now() - t0);
  }
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu0);
  return { ops: n, seconds, latency: latency.summary(), loopDelay: { p99: 0, max: 0 }, cpuUs: used.user + used.system };
}

async function bareEcho(n: number): Promise<Driven> {
  const worker = new Worker(new URL('../children/echo-worker.js', import.meta.url));
  const roundTrip = (m: unknown): Promise<unknown> => new Promise((resolve) => {
    worker.once('message', resolve);
    worker.postMessage(m);
  });
  for (let i = 0; i < 200; i++) await roundTrip(i); // warm up
  // The same payload a lone run() carries: one op with ~200 bytes of parameters.
  const measured = await roundTrips(n, (i) => roundTrip({ kind: 'batch', count: 1, bytes: 0, sql: [INSERT_SQL], sqlIndex: new Int32Array(1), params: [pooledParams(i)], complex: [] }));
  await worker.terminate();
  return measured;
}

/**
 * Settling a large batch: 4,096-op batches (issued 4,096 at a time, so each is one transaction)
 * whose callers each do 50 µs of work after their write. Settled all in one turn, one batch would
 * hold the caller's loop for ~200 ms; the row's note says how many continuations the busiest turn
 * ran, and its loop delay max is the longest turn.
 */
async function settlingAcrossTurns(ctx: BenchContext): Promise<StrategyResult> {
  const batch = 4096;
  const rounds = ctx.smoke ? 1 : 5;
  ctx.progress(`caller shapes: ${rounds} batches of ${batch}, 50 µs of the caller's work after each write`);
  const queue = await openWriteQueue({ path: ctx.freshFile(), setup: SCHEMA, maxBatchOps: batch });
  const latency = new LatencyRecorder();
  let inTurn = 0;
  let busiest = 0;
  let running = true;
  const tick = (): void => {
    busiest = Math.max(busiest, inTurn);
    inTurn = 0;
    if (running) setImmediate(tick);
  };
  const t0 = performance.now();
  const { loopDelay } = await withLoopDelay(async () => {
    setImmediate(tick);
    for (let r = 0; r < rounds; r++) {
      await Promise.all(
        Array.from({ length: batch }, (_, i) => {
          const issued = performance.now();
          return queue.run(INSERT_SQL, pooledParams(i)).then(() => {
            latency.recordMs(performance.now() - issued);
            inTurn += 1;
            const until = performance.now() + 0.05;
            while (performance.now() < until);
          });
        }),
      );
    }
    running = false;
    busiest = Math.max(busiest, inTurn);
  });
  const seconds = (performance.now() - t0) / 1000;
  const transactions = queue.stats().transactions;
  await queue.close();
  return {
    ...row(
      `${batch}-op batches, 50 µs of work after each write`,
      { ops: rounds * batch, seconds, latency: latency.summary(), loopDelay },
      `the busiest turn ran ${busiest} of a batch's ${batch} continuations (${transactions} transactions)`,
    ),
    busiestTurnOps: busiest,
  };
}
