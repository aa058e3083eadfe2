import Database from 'better-sqlite3';
import type { BenchContext } from '../bench-context.js';
import { runChild } from '../measure/child.js';
import { WalWatch } from '../measure/wal-watch.js';
import type { ProcessResult, ScenarioResult } from '../results.js';
import { SESSION_SCHEMA } from '@litescribe/example-session-store';

/**
 * Suite 3, the seed's scenario: P processes share one session store file, each appending messages
 * to its own session. "before" runs the store's appendMessage on each main thread in BEGIN
 * IMMEDIATE with a 30 s busy timeout; "after" is the store on litescribe with one writer per
 * process (`shareWriter: 'off'`); "shared" is the store on litescribe with one writer for the file
 * (`shareWriter: 'auto'`, the default). Once with the seed's short think times, once back to back.
 * Then the light workload back to back (one 200-byte INSERT per write, no FTS), where the cost of
 * the machinery per write shows: "before" is then the naive code, one main-thread transaction each.
 */
export async function multiProcess(ctx: BenchContext): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = [];
  for (const processes of ctx.smoke ? [4] : [8, 16]) {
    for (const thinkMs of [5, 0]) {
      const durationMs = ctx.smoke ? 800 : thinkMs > 0 ? 3_000 : 2_000;
      for (const variant of ['before', 'after', 'shared'] as const) {
        results.push(await runScenario(ctx, { processes, variant, durationMs, thinkMs }));
      }
    }
  }
  for (const processes of ctx.smoke ? [4] : [8, 16]) {
    for (const variant of ['before', 'after', 'shared'] as const) {
      results.push(await runScenario(ctx, { processes, variant, durationMs: ctx.smoke ? 800 : 3_000, thinkMs: 0, workload: 'light' }));
    }
  }
  return results;
}

/** A retry policy for the "after" processes: pause window in ms. */
export interface RetryPolicy {
  readonly label: string;
  readonly minMs: number;
  readonly maxMs: number;
}

export interface ScenarioSpec {
  readonly processes: number;
  readonly variant: 'before' | 'after' | 'shared';
  readonly durationMs: number;
  readonly thinkMs: number;
  readonly retry?: RetryPolicy;
  /** Default `session`. */
  readonly workload?: 'session' | 'light';
}

/** A fresh session-store file in WAL mode. */
export function freshStoreFile(ctx: BenchContext): string {
  const path = ctx.freshFile();
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.exec(SESSION_SCHEMA);
  db.exec('CREATE TABLE IF NOT EXISTS light (id INTEGER PRIMARY KEY, proc TEXT NOT NULL, body TEXT NOT NULL)');
  db.close();
  return path;
}

/** The scenario writer's arguments for process `id`. */
export function scenarioArgs(spec: ScenarioSpec, path: string, startAt: number, id: number): string[] {
  const retryArgs = spec.retry === undefined ? [] : [String(spec.retry.minMs), String(spec.retry.maxMs)];
  return [spec.variant, path, String(startAt), String(spec.durationMs), String(spec.thinkMs), String(id), ...retryArgs];
}

/** The JSON line a scenario writer ends with. */
export function processResult(lines: readonly string[]): ProcessResult {
  return JSON.parse(lines.find((l) => l.startsWith('{'))!) as ProcessResult;
}

/** Runs one scenario on a fresh file and checks that every acknowledged write is in it. */
export async function runScenario(ctx: BenchContext, spec: ScenarioSpec): Promise<ScenarioResult> {
  const { processes, variant, durationMs, thinkMs, retry } = spec;
  const workload = spec.workload ?? 'session';
  const policy = variant === 'before' ? "SQLite's busy handler (30 s timeout)" : variant === 'shared' ? 'one writer for the file' : (retry?.label ?? 'default');
  ctx.progress(`multi-process: ${processes} processes, ${workload} writes, ${variant}, ${policy}, think ${thinkMs} ms (${durationMs / 1000} s)`);
  const path = freshStoreFile(ctx);
  const startAt = Date.now() + 1_000 + processes * 150; // every child is loaded before the start
  const wal = new WalWatch(path, 20);
  const env = workload === 'light' ? { WORKLOAD: 'light' } : {};
  const children = Array.from({ length: processes }, (_, id) => runChild('scenario-writer.js', scenarioArgs(spec, path, startAt, id), env).done);
  const outputs = await Promise.all(children);
  const walPeakBytes = wal.stop();
  const perProcess = outputs.map(processResult);
  const check = new Database(path, { readonly: true });
  const rows = check.prepare(`SELECT count(*) FROM ${workload === 'light' ? 'light' : 'messages'}`).pluck().get() as number;
  check.close();
  const totalOps = perProcess.reduce((s, p) => s + p.ops, 0);
  if (rows !== totalOps) throw new Error(`multi-process ${variant}: ${totalOps} acknowledged writes but ${rows} rows in the file`);
  return {
    processes,
    workload,
    cpuUsPerWrite: perProcess.reduce((s, p) => s + p.cpuUs, 0) / Math.max(1, totalOps),
    variant,
    thinkMs,
    policy,
    perProcess,
    walPeakBytes,
    totalOps,
    totalErrors: perProcess.reduce((s, p) => s + p.errors, 0),
    opsPerSec: totalOps / Math.max(...perProcess.map((p) => p.seconds)),
  };
}
