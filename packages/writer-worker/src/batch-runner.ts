import { deserialize } from 'node:v8';
import type { Statement } from 'better-sqlite3';
import { BusyDeadlineError, retryWhileBusy } from './busy-retry.js';
import type { BusyRetryPolicy } from './busy-retry.js';
import { bindArgs } from './bind-args.js';
import { isBatchFatalCode, toErrorData } from './error-data.js';
import { WriterErrorCode } from './protocol.js';
import type { BatchDone, BatchTask, BindParams, ErrorData, OpMessage, RunResult } from './protocol.js';
import { WriterError } from './writer-connection.js';
import type { Procedure, WriterConnection } from './writer-connection.js';

/** The procedures a batch's `call` op may name: a merged batch holds ops of several processes, each with its own module. */
export type ProcedureLookup = (opIndex: number) => ReadonlyMap<string, Procedure>;

/** COMMIT itself threw. */
class CommitFailed {
  constructor(readonly error: ErrorData) {}
}

/** Raised inside the op loop when the whole transaction must be abandoned. */
class BatchAbort {
  constructor(
    readonly opIndex: number,
    readonly error: ErrorData,
  ) {}
}

/** A batch's reply, and what changed under the file (see `WriterConnection.generationProblem`), or null. */
export interface BatchRun {
  readonly done: BatchDone;
  readonly moved: string | null;
}

/**
 * Runs a batch of operations as one `BEGIN IMMEDIATE … COMMIT` (group commit).
 *
 * A failing operation rejects alone and the rest commit. A plain `run` pays no SAVEPOINT: SQLite
 * already undoes just the failed statement (statement journal). Multi-statement ops (`batch`, `call`)
 * run inside a SAVEPOINT so a failure part-way leaves nothing of them behind. An error that may end
 * the whole transaction (SQLITE_FULL, IOERR, …) rolls the batch back and every op is reported failed.
 *
 * After the transaction the file's generation is looked at, before anyone is told: a batch that
 * went into a generation of the file nobody will read again is never acknowledged. The same `stat`
 * of the -wal gives the WAL size the reply carries.
 */
export async function runBatch(
  conn: WriterConnection,
  task: BatchTask,
  retry: BusyRetryPolicy,
  proceduresOf: ProcedureLookup = () => conn.procedures,
): Promise<BatchRun> {
  const outcome = await runTransaction(conn, task, retry, proceduresOf);
  const moved = conn.generationProblem();
  return { done: { ...outcome, walBytes: conn.walSeenBytes }, moved };
}

async function runTransaction(
  conn: WriterConnection,
  task: BatchTask,
  retry: BusyRetryPolicy,
  proceduresOf: ProcedureLookup,
): Promise<Omit<BatchDone, 'walBytes'>> {
  const { count } = task;
  const changes = new Float64Array(count);
  const rowids = new Float64Array(count);
  const values: Array<[number, unknown]> = [];
  const errors: Array<[number, ErrorData]> = [];
  let busyRetries = 0;
  let lockWaitMs = 0;
  const failAll = (error: (i: number) => ErrorData): Omit<BatchDone, 'walBytes'> => ({
    kind: 'batch-done',
    committed: false,
    changes,
    rowids,
    values: [],
    errors: Array.from({ length: count }, (_, i) => [i, error(i)] as const),
    busyRetries,
    lockWaitMs,
    transactionOps: count,
  });

  try {
    const begun = await retryWhileBusy(() => conn.begin.run(), retry);
    busyRetries = begun.retries;
    lockWaitMs = begun.waitedMs;
  } catch (err) {
    if (err instanceof BusyDeadlineError) {
      busyRetries = err.retries;
      lockWaitMs = err.waitedMs;
    }
    const error = toErrorData(err);
    return failAll(() => error);
  }

  try {
    // Prepare (or fetch) each distinct statement once per batch, not once per op.
    const safe = task.safeIntegers === true;
    const statements: Array<Statement | PreparedError> = task.sql.map((sql) => {
      try {
        // Cached statements are shared by every process's batches: set the mode each batch.
        return conn.statements.get(sql).safeIntegers(safe);
      } catch (err) {
        return new PreparedError(toErrorData(err));
      }
    });
    const complex = new Map(task.complex);
    for (let i = 0; i < count; i++) {
      const sqlIndex = task.sqlIndex[i]!;
      try {
        if (sqlIndex >= 0) {
          const stmt = statements[sqlIndex]!;
          if (stmt instanceof PreparedError) throw stmt;
          const r = runStatement(stmt, task.params[i], conn, safe);
          changes[i] = r.changes;
          // A bigint rowid past 2^53 would not survive the Float64Array column; rows need a value.
          if (safe || r.rows !== undefined) values.push([i, r]);
          else rowids[i] = Number(r.lastInsertRowid);
        } else {
          values.push([i, runComplex(conn, complex.get(i)!, proceduresOf(i), safe)]);
        }
      } catch (err) {
        const op = complex.get(i);
        const error = err instanceof PreparedError ? err.data : toErrorData(err, op?.kind === 'call' ? { procedure: op.name } : undefined);
        if (isBatchFatalCode(error.code)) throw new BatchAbort(i, error);
        if (!conn.db.inTransaction) throw new BatchAbort(i, transactionLost(error.message));
        errors.push([i, error]);
        continue;
      }
      if (!conn.db.inTransaction) throw new BatchAbort(i, transactionLost(null));
    }
    try {
      conn.commit.run();
    } catch (err) {
      throw new CommitFailed(toErrorData(err));
    }
  } catch (err) {
    if (err instanceof CommitFailed && !conn.db.inTransaction) {
      // SQLite ended the transaction itself while committing (an I/O error, a full disk): some or
      // all of it may be in the WAL, so whether it committed cannot be said.
      return failAll(() => commitUnknown(err.error));
    }
    // A COMMIT that failed and left the transaction open (SQLITE_BUSY) is rolled back: nothing of it committed.
    const abort = err instanceof BatchAbort ? err : new BatchAbort(-1, err instanceof CommitFailed ? err.error : toErrorData(err));
    if (conn.db.inTransaction) conn.rollback.run();
    return failAll((i) => (i === abort.opIndex ? abort.error : rolledBack(abort)));
  }
  return { kind: 'batch-done', committed: true, changes, rowids, values, errors, busyRetries, lockWaitMs, transactionOps: count };
}

/** A statement that failed to prepare: each op using it fails with the same error. */
class PreparedError {
  constructor(readonly data: ErrorData) {}
}

function rolledBack(abort: BatchAbort): ErrorData {
  const which = abort.opIndex >= 0 ? `operation #${abort.opIndex} of this batch` : 'COMMIT';
  return {
    name: abort.error.name,
    message: `transaction rolled back, nothing of this batch was committed: ${which} failed: ${abort.error.message}`,
    ...(abort.error.code === undefined ? {} : { code: abort.error.code }),
    opIndex: abort.opIndex,
  };
}

/**
 * COMMIT failed and SQLite ended the transaction: the outcome-unknown error, with SQLite's error as
 * its `cause` and its code in the message.
 */
function commitUnknown(cause: ErrorData): ErrorData {
  return {
    name: 'WorkerExitedError',
    code: WriterErrorCode.workerExited,
    message: `COMMIT failed (${cause.code ?? cause.name}: ${cause.message}); whether this batch committed is unknown: check the database before retrying`,
    cause,
  };
}

/** A procedure ran COMMIT or ROLLBACK itself: what became of the batch's other ops is not ours to say. */
function transactionLost(detail: string | null): ErrorData {
  return {
    name: 'TransactionLostError',
    code: WriterErrorCode.transactionLost,
    message: `the operation ended the batch transaction itself (COMMIT/ROLLBACK); the outcome of this batch is unknown${detail === null ? '' : ` (${detail})`}`,
  };
}

function runComplex(conn: WriterConnection, op: OpMessage, procedures: ReadonlyMap<string, Procedure>, safe: boolean): unknown {
  switch (op.kind) {
    case 'run':
      return runStatement(conn.statements.get(op.sql).safeIntegers(safe), op.params, conn, safe);
    case 'batch':
      return inSavepoint(conn, () => op.statements.map((s) => runStatement(conn.statements.get(s.sql).safeIntegers(safe), s.params, conn, safe)));
    case 'call':
      return inSavepoint(conn, () => callProcedure(conn, procedures, op.name, op.args));
    case 'many':
      return inSavepoint(conn, () => runMany(conn, conn.statements.get(op.sql).safeIntegers(safe), op.rows, safe));
    default:
      throw new Error(`unknown op kind: ${JSON.stringify((op as { kind: unknown }).kind)}`);
  }
}

/** Every row of a `runMany`, in order; the first failing row fails the op, naming its index. */
function runMany(conn: WriterConnection, stmt: Statement, slices: readonly Uint8Array[], safe: boolean): RunResult {
  let changes = 0;
  let lastInsertRowid: number | bigint = 0;
  let index = 0;
  for (const slice of slices) {
    for (const params of deserialize(slice) as BindParams[]) {
      let r: RunResult;
      try {
        // A runMany of a statement with RETURNING keeps no rows: it resolves totals only.
        r = runStatement(stmt, params, conn, safe, false);
      } catch (err) {
        if (err instanceof Error) err.message = `row ${index}: ${err.message}`;
        throw err;
      }
      changes += r.changes;
      lastInsertRowid = r.lastInsertRowid;
      index += 1;
    }
  }
  return { changes, lastInsertRowid };
}

/**
 * Runs one statement. A write that returns rows (`… RETURNING`, better-sqlite3's `reader`) is
 * stepped with `all()` so its rows come back, committed with it; its changes and rowid then come
 * from SQLite's own counters, read by one cached statement.
 */
function runStatement(stmt: Statement, params: BindParams | undefined, conn: WriterConnection, safe: boolean, keepRows = true): RunResult {
  if (!stmt.reader) return stmt.run(...bindArgs(params));
  const rows = stmt.all(...bindArgs(params)) as Array<Record<string, unknown>>;
  const counters = conn.statements.get('SELECT changes() AS changes, last_insert_rowid() AS lastInsertRowid').safeIntegers(safe);
  const { changes, lastInsertRowid } = counters.get() as { changes: number | bigint; lastInsertRowid: number | bigint };
  return keepRows ? { changes: Number(changes), lastInsertRowid, rows } : { changes: Number(changes), lastInsertRowid };
}

function inSavepoint<T>(conn: WriterConnection, body: () => T): T {
  // Prepared once (statement cache): exec() would parse the text again for every op.
  conn.statements.get('SAVEPOINT litescribe_op').run();
  try {
    const value = body();
    conn.statements.get('RELEASE litescribe_op').run();
    return value;
  } catch (err) {
    if (conn.db.inTransaction) conn.db.exec('ROLLBACK TO litescribe_op; RELEASE litescribe_op');
    throw err;
  }
}

function callProcedure(conn: WriterConnection, procedures: ReadonlyMap<string, Procedure>, name: string, serializedArgs: Uint8Array): unknown {
  const fn = procedures.get(name);
  if (fn === undefined) {
    throw new WriterError(WriterErrorCode.unknownProcedure, `unknown procedure ${JSON.stringify(name)}`);
  }
  const args: unknown = deserialize(serializedArgs);
  let value: unknown;
  try {
    value = fn(conn.db, args);
  } catch (err) {
    if (typeof (err as { code?: unknown }).code === 'string') throw err;
    throw new WriterError(WriterErrorCode.procedureFailed, `procedure ${name} threw: ${(err as Error)?.message ?? String(err)}`, { cause: err });
  }
  if (typeof (value as { then?: unknown } | null)?.then === 'function') {
    throw new WriterError(WriterErrorCode.procedureFailed, `procedure ${name} returned a promise; procedures must be synchronous (they run inside the batch transaction)`);
  }
  // The reply crosses threads after COMMIT; a result that cannot be cloned must fail here, before.
  try {
    structuredClone(value);
  } catch (err) {
    throw new WriterError(WriterErrorCode.procedureFailed, `procedure ${name} returned a value that cannot be sent between threads: ${(err as Error).message}`);
  }
  return value;
}
