// One process of the multi-process scenario, the seed's workload: an agent session appending
// messages (through the session store) with short think times until its time is up, then one JSON
// line with what it saw.
//   node scenario-writer.js <before|after|shared> <path> <startAtEpochMs> <durationMs> <thinkMs> <id> [retryMinMs retryMaxMs]
// "after" is litescribe with one writer per process (shareWriter 'off'); "shared" is litescribe with
// one writer for the file (shareWriter 'auto', the default). A think time of 0 means back to back.
// WORKLOAD=light: instead of the session store, one 200-byte INSERT per write into `light` (no FTS),
// so the per-write cost of the machinery is not hidden behind SQLite work.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { openWriteQueue } from '@litescribe/core';
import { SessionStore } from '@litescribe/example-session-store';
import * as procedures from '@litescribe/example-session-store/procedures';
import type { NewMessage } from '@litescribe/example-session-store';
import { LatencyRecorder } from '../measure/latency-recorder.js';
import type { ProcessResult } from '../results.js';
import { messageParams } from '../workload.js';

const [variant, path, startAtArg, durationArg, thinkArg, id, retryMin, retryMax] = process.argv.slice(2) as [string, string, string, string, string, string, string?, string?];
const startAt = Number(startAtArg);
const durationMs = Number(durationArg);
const thinkMs = Number(thinkArg);
const session = `proc-${id}`;
const message = (i: number): NewMessage => {
  const [, role, content] = messageParams(i, session);
  return { role, content, tokenCount: 40 };
};

type Append = (i: number) => Promise<unknown> | unknown;
let append: Append;
let finish: () => Promise<void> | void;
let busyRetries = (): number => 0;
let role = (): string => 'inline';

const light = process.env.WORKLOAD === 'light';
const LIGHT_INSERT = 'INSERT INTO light(proc, body) VALUES (?, ?)';
const lightBody = 'x'.repeat(200);

/**
 * The naive code, what the agent tool did before its fix: `write` on the main thread inside
 * BEGIN IMMEDIATE, waiting in SQLite's busy handler with a 30 s timeout.
 */
function naive(prepare: (db: Database.Database) => (i: number) => void): [Append, () => void] {
  const db = new Database(path, { timeout: 30_000 });
  db.pragma('journal_mode = WAL');
  const write = prepare(db);
  const appendOne: Append = (i) => {
    db.exec('BEGIN IMMEDIATE');
    try {
      write(i);
      db.exec('COMMIT');
    } catch (err) {
      if (db.inTransaction) db.exec('ROLLBACK');
      throw err;
    }
  };
  return [appendOne, () => db.close()];
}

if (light && variant === 'before') {
  [append, finish] = naive((db) => {
    const insert = db.prepare(LIGHT_INSERT);
    return () => insert.run(session, lightBody);
  });
} else if (light) {
  const q = await openWriteQueue({ path, shareWriter: variant === 'shared' ? 'auto' : 'off' });
  append = () => q.run(LIGHT_INSERT, [session, lightBody]);
  busyRetries = () => q.stats().busyRetries;
  role = () => q.stats().role;
  finish = () => q.close();
} else if (variant === 'before') {
  [append, finish] = naive((db) => {
    procedures.ensureSession(db, { id: session, source: 'bench' });
    return (i) => procedures.appendMessage(db, { sessionId: session, message: message(i) });
  });
} else {
  // After: the session store on litescribe.
  const retry = retryMin === undefined ? {} : { busyRetryMinMs: Number(retryMin), busyRetryMaxMs: Number(retryMax) };
  const deadline = process.env.BUSY_DEADLINE_MS === undefined ? {} : { busyDeadlineMs: Number(process.env.BUSY_DEADLINE_MS) };
  const store = await SessionStore.open(path, { ...retry, ...deadline, shareWriter: variant === 'shared' ? 'auto' : 'off' });
  await store.ensureSession(session, 'bench');
  append = (i) => store.appendMessage(session, message(i));
  busyRetries = () => store.queue.stats().busyRetries;
  role = () => store.queue.stats().role;
  finish = () => store.close();
}

console.log(`opened ${role()}`);
await sleep(Math.max(0, startAt - Date.now()));
const loop = monitorEventLoopDelay({ resolution: 1 });
loop.enable();
const latency = new LatencyRecorder();
// Wall-clock gaps of 5 ms or more between two acknowledgements: the failover suite finds the one
// that spans its SIGKILL of the leader.
const wallNow = (): number => performance.timeOrigin + performance.now();
let lastAck = wallNow();
const gaps: Array<[number, number]> = [];
let inDoubt = 0;
let busy = 0;
// Suites may name wall-clock windows ("from,to;from,to" in epoch ms; the liveness suite's SIGSTOP to
// SIGCONT, the hostile suite's before and during): acknowledgements in each are counted.
const windows = (process.env.ACK_WINDOWS ?? '').split(';').filter((w) => w !== '').map((w) => w.split(',').map(Number) as [number, number]);
const inWindows = windows.map(() => 0);
const roles = new Set<string>([role()]);
let ops = 0;
let errors = 0;
let firstError: string | undefined;
const cpuBefore = process.cpuUsage();
const started = performance.now();
const deadline = started + durationMs;
for (let i = 0; performance.now() < deadline; i++) {
  const t0 = performance.now();
  try {
    await append(i);
    ops += 1;
    const at = wallNow();
    if (at - lastAck >= 5 && gaps.length < 5_000) gaps.push([lastAck, at]);
    for (let w = 0; w < windows.length; w++) if (at >= windows[w]![0] && at < windows[w]![1]) inWindows[w]! += 1;
    lastAck = at;
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_WORKER_EXITED') inDoubt += 1;
    if ((err as { code?: string }).code === 'ERR_BUSY_TIMEOUT') busy += 1;
    errors += 1;
    firstError ??= `${(err as { code?: string }).code ?? ''} ${(err as Error).message}`;
  }
  latency.recordMs(performance.now() - t0);
  // stats() builds a whole snapshot (latency percentiles): looked at every 64 writes, it cost a
  // litescribe process more CPU per write than the write itself (the naive variant's role() is free).
  if ((i & 63) === 0) roles.add(role());
  if (thinkMs > 0) await sleep(Math.random() * 2 * thinkMs);
}
const seconds = (performance.now() - started) / 1000;
roles.add(role());
loop.disable();
const retries = busyRetries();
const finalRole = role();
// Close only once every process is past its deadline: a shared writer's leader leaving while the
// others still write would put a handover into their latencies (the failover suite measures that).
await sleep(Math.max(0, startAt + durationMs + 500 - Date.now()));
// Every thread of this process from its first write until now: a leader's includes committing the
// other processes' writes.
const cpu = process.cpuUsage(cpuBefore);
await finish();
const result: ProcessResult = {
  ops,
  errors,
  seconds,
  latency: latency.summary(),
  loopDelayMax: Math.max(0, loop.max / 1e6 - 1),
  busyRetries: retries,
  role: finalRole,
  gaps,
  inDoubt,
  busy,
  inWindows,
  roles: [...roles],
  cpuUs: cpu.user + cpu.system,
  ...(firstError === undefined ? {} : { firstError }),
};
console.log(JSON.stringify(result));
