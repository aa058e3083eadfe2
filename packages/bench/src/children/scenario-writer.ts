// One process of the multi-process scenario: appends messages to its session with short think times
// until its time is up, then prints one JSON line with what it saw.
//   node scenario-writer.js <before|after> <path> <startAtEpochMs> <durationMs> <thinkMs> <id> [retryMinMs retryMaxMs]
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { openWriteQueue } from '@litescribe/core';
import { LatencyRecorder } from '../measure/latency-recorder.js';
import type { ProcessResult } from '../results.js';
import { INSERT_SQL, messageParams } from '../workload.js';

const [variant, path, startAtArg, durationArg, thinkArg, id, retryMin, retryMax] = process.argv.slice(2) as [string, string, string, string, string, string, string?, string?];
const startAt = Number(startAtArg);
const durationMs = Number(durationArg);
const thinkMs = Number(thinkArg);
const session = `proc-${id}`;
const BUMP_SQL = 'UPDATE sessions SET message_count = message_count + 1 WHERE id = ?';

type Append = (i: number) => Promise<void> | void;
let append: Append;
let finish: () => Promise<void> | void;
let busyRetries = (): number => 0;

if (variant === 'before') {
  // What the agent tool did before its fix: writes on the main thread, SQLite's busy handler with
  // a 30 s timeout, BEGIN IMMEDIATE per write.
  const db = new Database(path, { timeout: 30_000 });
  db.pragma('journal_mode = WAL');
  db.prepare('INSERT OR IGNORE INTO sessions(id, message_count) VALUES (?, 0)').run(session);
  const insert = db.prepare(INSERT_SQL);
  const bump = db.prepare(BUMP_SQL);
  append = (i) => {
    db.exec('BEGIN IMMEDIATE');
    try {
      insert.run(...messageParams(i, session));
      bump.run(session);
      db.exec('COMMIT');
    } catch (err) {
      if (db.inTransaction) db.exec('ROLLBACK');
      throw err;
    }
  };
  finish = () => {
    db.close();
  };
} else {
  const q = await openWriteQueue({
    path,
    ...(retryMin === undefined ? {} : { busyRetryMinMs: Number(retryMin), busyRetryMaxMs: Number(retryMax) }),
  });
  busyRetries = () => q.stats().busyRetries;
  await q.run('INSERT OR IGNORE INTO sessions(id, message_count) VALUES (?, 0)', [session]);
  append = async (i) => {
    await q.batch([{ sql: INSERT_SQL, params: messageParams(i, session) }, { sql: BUMP_SQL, params: [session] }]);
  };
  finish = () => q.close();
}

await sleep(Math.max(0, startAt - Date.now()));
const loop = monitorEventLoopDelay({ resolution: 1 });
loop.enable();
const latency = new LatencyRecorder();
let ops = 0;
let errors = 0;
let firstError: string | undefined;
const started = performance.now();
const deadline = started + durationMs;
for (let i = 0; performance.now() < deadline; i++) {
  const t0 = performance.now();
  try {
    await append(i);
    ops += 1;
  } catch (err) {
    errors += 1;
    firstError ??= `${(err as { code?: string }).code ?? ''} ${(err as Error).message}`;
  }
  latency.recordMs(performance.now() - t0);
  await sleep(Math.random() * 2 * thinkMs);
}
const seconds = (performance.now() - started) / 1000;
loop.disable();
const retries = busyRetries();
await finish();
const result: ProcessResult = {
  ops,
  errors,
  seconds,
  latency: latency.summary(),
  loopDelayMax: Math.max(0, loop.max / 1e6 - 1),
  busyRetries: retries,
  ...(firstError === undefined ? {} : { firstError }),
};
console.log(JSON.stringify(result));
