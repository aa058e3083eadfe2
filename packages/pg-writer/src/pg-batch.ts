import { deserialize } from 'node:v8';
import type pg from 'pg';
import type { BatchTask, BindParams, ErrorData, OpMessage } from '@litescribe/writer-worker';
import { bulkInsert } from './bulk-insert.js';
import type { BulkStatement } from './bulk-insert.js';
import { isConnectionError, isRetryable, isServerError, pgErrorData } from './pg-error-data.js';

/** What a procedure gets: the batch transaction's connection, for queries only (`$1` placeholders). */
export interface PgProcedureClient {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: readonly unknown[]): Promise<pg.QueryResult<R>>;
}

/** A procedure on PostgreSQL: runs inside the batch transaction, in its own SAVEPOINT. */
export type PgProcedure = (client: PgProcedureClient, args: unknown) => Promise<unknown>;

/** One op's result: its value, or the error that rejects it alone. */
export type OpOutcome = { readonly ok: true; readonly value: unknown; readonly changes: number } | { readonly ok: false; readonly error: ErrorData };

/**
 * Why a batch attempt stopped: the connection went away (nothing committed: run it again on a new
 * one), the server rolled the transaction back (serialization failure or deadlock: run it again),
 * or an op failed in a pass without savepoints (roll back, run it again with a savepoint per op).
 */
export class BatchAbort extends Error {
  constructor(
    readonly reason: 'connection' | 'retry' | 'isolate',
    override readonly cause: unknown,
  ) {
    super(`batch attempt stopped (${reason})`);
  }
}

/** What {@link runOps} needs of the connection. */
export interface BatchConnection {
  readonly client: pg.Client;
  /** False once the client reported an error or its end: whatever was in flight is lost. */
  alive(): boolean;
  /**
   * Runs `work` with the server's silence bounded: if nothing at all arrives from the server for
   * `silenceMs` while it runs, the connection is dropped (and `work`'s queries fail as a lost
   * connection). Bytes of any answer count, so a long batch that keeps answering is never cut.
   */
  watched<T>(silenceMs: number, work: () => Promise<T>): Promise<T>;
  /**
   * The name of this SQL text's prepared statement on this connection, or undefined (run unnamed).
   * A named statement is parsed once per connection; later runs send only Bind and Execute.
   */
  statementName(text: string): string | undefined;
  /**
   * runMany statements by SQL text: how each runs set-based on this connection (see
   * bulk-insert.ts), or null for one that runs per row. Filled before a batch begins.
   */
  readonly bulk: Map<string, BulkStatement | null>;
}

/**
 * Ops per pipelined window in a pass with savepoints: after a failure the server skips what
 * follows until `ROLLBACK TO SAVEPOINT`, and node-postgres builds an error for every skipped
 * statement, so a window bounds that waste (see docs/postgres.md for the figures).
 */
const SAVEPOINT_WINDOW = 32;

/**
 * A query config that always uses the extended protocol (even without values): one statement per
 * query, as SQLite's prepare takes it, so `COMMIT; …` cannot slip in as a second statement.
 * (`queryMode` is node-postgres's; its type definitions do not list it yet.)
 */
export function extended(text: string, values?: BindParams | readonly unknown[], name?: string): pg.QueryConfig {
  const config = { text, values: values as unknown[] | undefined, queryMode: 'extended' } as pg.QueryConfig;
  if (name !== undefined) config.name = name;
  return config;
}

function send(conn: BatchConnection, text: string, values?: BindParams | readonly unknown[]): Promise<pg.QueryResult> {
  return conn.client.query(extended(text, values, conn.statementName(text)));
}

/**
 * The {@link BatchAbort} an error ends the attempt with, whatever op it came from: the connection
 * is gone (or the server sent a FATAL), or the server rolled the transaction back. Null: the error
 * is the op's own.
 */
export function abortFor(conn: BatchConnection, err: unknown): BatchAbort | null {
  if (!conn.alive() || (isServerError(err) && isConnectionError(err))) return new BatchAbort('connection', err);
  if (isRetryable(err)) return new BatchAbort('retry', err);
  return null;
}

/** Throws the {@link BatchAbort} an error calls for, or returns it as this op's own failure. */
function classify(conn: BatchConnection, err: unknown, savepoints: boolean): ErrorData {
  const abort = abortFor(conn, err);
  if (abort !== null) throw abort;
  if (!savepoints) throw new BatchAbort('isolate', err);
  return pgErrorData(err);
}

/** A statement's result as `run()` resolves it: RETURNING rows come along when there are any. */
function runResult(res: pg.QueryResult): { changes: number; lastInsertRowid: number; rows?: unknown[] } {
  const changes = res.rowCount ?? 0;
  return res.fields.length > 0 ? { changes, lastInsertRowid: 0, rows: res.rows } : { changes, lastInsertRowid: 0 };
}

function opAt(task: BatchTask, complex: ReadonlyMap<number, OpMessage>, i: number): OpMessage {
  const index = task.sqlIndex[i]!;
  return index >= 0 ? { kind: 'run', sql: task.sql[index]!, params: task.params[i] } : complex.get(i)!;
}

/**
 * Runs a batch's ops inside the open transaction, pipelined: every statement up to the next
 * procedure goes out without waiting for the one before (node-postgres `pipeline: true`).
 *
 * Without `savepoints` the first failing op aborts the attempt (PostgreSQL has aborted the whole
 * transaction: 25P02). With them each op runs inside `SAVEPOINT litescribe_op … RELEASE`; after a
 * failure the server skips what follows until `ROLLBACK TO SAVEPOINT`, so the ops after the culprit
 * are sent again (they had not run). Procedures always get a savepoint of their own, so one that
 * throws leaves nothing behind in either pass.
 */
export async function runOps(conn: BatchConnection, task: BatchTask, procedures: ReadonlyMap<string, PgProcedure>, savepoints: boolean): Promise<OpOutcome[]> {
  const complex = new Map(task.complex);
  const out = new Array<OpOutcome>(task.count);
  let i = 0;
  while (i < task.count) {
    // One segment: the ops up to the next procedure, all sent before any answer is read.
    const segment: Array<{ index: number; guard: Array<Promise<pg.QueryResult>>; queries: Array<Promise<pg.QueryResult>>; shape: 'run' | 'batch' | 'many' }> = [];
    let k = i;
    for (; k < task.count && (!savepoints || k - i < SAVEPOINT_WINDOW); k++) {
      const op = opAt(task, complex, k);
      if (op.kind === 'call') break;
      const guard = savepoints ? [send(conn, 'SAVEPOINT litescribe_op')] : [];
      const queries =
        op.kind === 'run'
          ? [send(conn, op.sql, op.params)]
          : op.kind === 'batch'
            ? op.statements.map((s) => send(conn, s.sql, s.params))
            : manyQueries(conn, op.sql, op.rows, savepoints);
      if (savepoints) guard.push(send(conn, 'RELEASE SAVEPOINT litescribe_op'));
      segment.push({ index: k, guard, queries, shape: op.kind });
    }
    // Every promise gets its handler now: one rejected while an earlier one is awaited must not
    // count as unhandled (that ends the thread).
    const settled = await Promise.all(
      segment.map((s) => Promise.all([Promise.allSettled(s.queries), Promise.allSettled(s.guard)]).then(([queries, guard]) => ({ s, queries, guard }))),
    );
    let failedAt = -1;
    for (const { s, queries, guard } of settled) {
      const rejected = queries.find((r) => r.status === 'rejected') ?? guard.find((r) => r.status === 'rejected');
      if (rejected !== undefined) {
        out[s.index] = { ok: false, error: classify(conn, (rejected as PromiseRejectedResult).reason, savepoints) };
        failedAt = s.index;
        break;
      }
      const results = queries.map((r) => runResult((r as PromiseFulfilledResult<pg.QueryResult>).value));
      const changes = results.reduce((sum, r) => sum + r.changes, 0);
      const value = s.shape === 'batch' ? results : s.shape === 'many' ? { changes, lastInsertRowid: 0 } : results[0];
      out[s.index] = { ok: true, value, changes };
    }
    if (failedAt >= 0) {
      // Undo the culprit's part; the ops after it in this segment were skipped by the server.
      await Promise.all([send(conn, 'ROLLBACK TO SAVEPOINT litescribe_op'), send(conn, 'RELEASE SAVEPOINT litescribe_op')]).catch((err: unknown) => {
        throw new BatchAbort('connection', err);
      });
      i = failedAt + 1;
      continue;
    }
    i = k;
    if (i < task.count) {
      out[i] = await runCall(conn, opAt(task, complex, i) as OpMessage & { kind: 'call' }, procedures);
      i += 1;
    }
  }
  return out;
}

/**
 * A runMany's statements: one set-based INSERT when the statement allows it (see bulk-insert.ts)
 * and this is not a pass with a savepoint per op (that pass runs a statement per row, so an error
 * says which row failed), else a statement per row.
 */
function manyQueries(conn: BatchConnection, sql: string, slices: readonly Uint8Array[], savepoints: boolean): Array<Promise<pg.QueryResult>> {
  const rows = slices.flatMap((slice) => deserialize(slice) as BindParams[]);
  const statement = savepoints ? null : conn.bulk.get(sql);
  const bulk = statement === null || statement === undefined ? null : bulkInsert(statement, rows);
  if (bulk !== null) return [conn.client.query({ text: bulk.text, values: bulk.values })];
  if (savepoints) conn.bulk.delete(sql); // looked up again next time: the table may have changed
  return rows.map((row) => send(conn, sql, row));
}

async function runCall(conn: BatchConnection, op: OpMessage & { kind: 'call' }, procedures: ReadonlyMap<string, PgProcedure>): Promise<OpOutcome> {
  const fn = procedures.get(op.name);
  if (fn === undefined) {
    return { ok: false, error: { name: 'UnknownProcedureError', code: 'ERR_UNKNOWN_PROCEDURE', message: `unknown procedure ${JSON.stringify(op.name)}` } };
  }
  const args: unknown = deserialize(op.args);
  await send(conn, 'SAVEPOINT litescribe_call').catch((err: unknown) => {
    throw new BatchAbort(conn.alive() ? 'retry' : 'connection', err);
  });
  const client: PgProcedureClient = { query: (text, values) => send(conn, text, values) as never };
  let failure: unknown;
  try {
    const value = await fn(client, args);
    // The reply crosses to the main thread: a value that cannot is this op's failure, not the batch's.
    structuredClone(value);
    // Fails (25P02) when the procedure caught a statement's error and carried on.
    await send(conn, 'RELEASE SAVEPOINT litescribe_call');
    return { ok: true, value, changes: 0 };
  } catch (err) {
    failure = err;
  }
  const abort = abortFor(conn, failure);
  if (abort !== null) throw abort;
  await Promise.all([send(conn, 'ROLLBACK TO SAVEPOINT litescribe_call'), send(conn, 'RELEASE SAVEPOINT litescribe_call')]).catch((err: unknown) => {
    throw new BatchAbort('connection', err);
  });
  if (isServerError(failure)) return { ok: false, error: pgErrorData(failure, { procedure: op.name }) };
  const message = failure instanceof Error ? failure.message : String(failure);
  return { ok: false, error: { name: 'ProcedureError', code: 'ERR_PROCEDURE_FAILED', message: `procedure ${op.name} failed: ${message}`, procedure: op.name } };
}
