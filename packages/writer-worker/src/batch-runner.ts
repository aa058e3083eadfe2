import { deserialize } from 'node:v8';
import { BusyDeadlineError, retryWhileBusy } from './busy-retry.js';
import type { BusyRetryPolicy } from './busy-retry.js';
import { isBatchFatalCode, toErrorData } from './error-data.js';
import { WriterErrorCode } from './protocol.js';
import type { BindParams, ErrorData, OpMessage, OpOutcome, RunResult, WriterReply } from './protocol.js';
import { WriterError } from './writer-connection.js';
import type { WriterConnection } from './writer-connection.js';

type BatchDone = Extract<WriterReply, { kind: 'batch-done' }>;

/** Raised inside the op loop when the whole transaction must be abandoned. */
class BatchAbort {
  constructor(
    readonly opIndex: number,
    readonly error: ErrorData,
  ) {}
}

/**
 * Runs a batch of operations as one `BEGIN IMMEDIATE … COMMIT` (group commit).
 *
 * A failing operation rejects alone and the rest commit. A plain `run` pays no SAVEPOINT: SQLite
 * already undoes just the failed statement (statement journal). Multi-statement ops (`batch`, `call`)
 * run inside a SAVEPOINT so a failure part-way leaves nothing of them behind. An error that may end
 * the whole transaction (SQLITE_FULL, IOERR, …) rolls the batch back and every op is reported failed.
 */
export async function runBatch(conn: WriterConnection, ops: readonly OpMessage[], retry: BusyRetryPolicy): Promise<BatchDone> {
  let retries = 0;
  let lockWaitMs = 0;
  try {
    const begun = await retryWhileBusy(() => conn.begin.run(), retry);
    retries = begun.retries;
    lockWaitMs = begun.waitedMs;
  } catch (err) {
    if (err instanceof BusyDeadlineError) {
      retries = err.retries;
      lockWaitMs = err.waitedMs;
    }
    const error = toErrorData(err);
    return { kind: 'batch-done', outcomes: ops.map(() => ({ ok: false, error })), committed: false, busyRetries: retries, lockWaitMs, walBytes: conn.walBytes() };
  }

  const outcomes: OpOutcome[] = new Array<OpOutcome>(ops.length);
  try {
    for (let i = 0; i < ops.length; i++) {
      outcomes[i] = runOp(conn, ops[i]!, i);
    }
    conn.commit.run();
  } catch (err) {
    const abort = err instanceof BatchAbort ? err : new BatchAbort(-1, toErrorData(err));
    if (conn.db.inTransaction) conn.rollback.run();
    return {
      kind: 'batch-done',
      outcomes: ops.map((_, i) => ({ ok: false, error: i === abort.opIndex ? abort.error : rolledBack(abort) })),
      committed: false,
      busyRetries: retries,
      lockWaitMs,
      walBytes: conn.walBytes(),
    };
  }
  return { kind: 'batch-done', outcomes, committed: true, busyRetries: retries, lockWaitMs, walBytes: conn.walBytes() };
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

function runOp(conn: WriterConnection, op: OpMessage, index: number): OpOutcome {
  let outcome: OpOutcome;
  try {
    switch (op.kind) {
      case 'run':
        outcome = { ok: true, value: runStatement(conn, op.sql, op.params) };
        break;
      case 'batch':
        outcome = { ok: true, value: inSavepoint(conn, () => op.statements.map((s) => runStatement(conn, s.sql, s.params))) };
        break;
      case 'call':
        outcome = { ok: true, value: inSavepoint(conn, () => callProcedure(conn, op.name, op.args)) };
        break;
      default:
        throw new Error(`unknown op kind: ${JSON.stringify((op as { kind: unknown }).kind)}`);
    }
  } catch (err) {
    const error = toErrorData(err, op.kind === 'call' ? { procedure: op.name } : undefined);
    if (isBatchFatalCode(error.code)) throw new BatchAbort(index, error);
    if (!conn.db.inTransaction) throw new BatchAbort(index, transactionLost(error.message));
    return { ok: false, error };
  }
  if (!conn.db.inTransaction) throw new BatchAbort(index, transactionLost(null));
  return outcome;
}

/** A procedure ran COMMIT or ROLLBACK itself: what became of the batch's other ops is not ours to say. */
function transactionLost(detail: string | null): ErrorData {
  return {
    name: 'TransactionLostError',
    code: WriterErrorCode.transactionLost,
    message: `the operation ended the batch transaction itself (COMMIT/ROLLBACK); the outcome of this batch is unknown${detail === null ? '' : ` (${detail})`}`,
  };
}

function runStatement(conn: WriterConnection, sql: string, params: BindParams | undefined): RunResult {
  const stmt = conn.statements.get(sql);
  if (params === undefined) return stmt.run();
  return Array.isArray(params) ? stmt.run(...(params as unknown[])) : stmt.run(params);
}

function inSavepoint<T>(conn: WriterConnection, body: () => T): T {
  conn.db.exec('SAVEPOINT litescribe_op');
  try {
    const value = body();
    conn.db.exec('RELEASE litescribe_op');
    return value;
  } catch (err) {
    if (conn.db.inTransaction) conn.db.exec('ROLLBACK TO litescribe_op; RELEASE litescribe_op');
    throw err;
  }
}

function callProcedure(conn: WriterConnection, name: string, serializedArgs: Uint8Array): unknown {
  const fn = conn.procedures.get(name);
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
