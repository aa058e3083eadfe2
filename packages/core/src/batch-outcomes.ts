import type { ErrorData, WriterReply } from '@litescribe/writer-worker';
import type { BatchDiagnostics } from './diagnostics.js';
import { errorFromData } from './errors.js';
import type { PendingOp } from './pending-op.js';
import type { SettleJob } from './settle-pacer.js';

/** Resolves (`ok`) or rejects one op with its outcome. */
export type SettleOp = (op: PendingOp, ok: boolean, value: unknown) => void;

/**
 * What each op of an answered batch settles with, as a job for the settle pacer. A reply that is
 * not `batch-done` (the batch failed as a whole, or the writer was lost: `failure`) rejects every
 * op with the same error; otherwise errors and non-`run` values are sparse and every other op is a
 * committed run with its changes and rowid.
 */
export function batchOutcomes(ops: PendingOp[], reply: WriterReply | null, failure: unknown, settle: SettleOp): SettleJob {
  if (reply?.kind !== 'batch-done') return { ops, next: 0, settle: (i) => settle(ops[i]!, false, failure) };
  let sparse: Map<number, { readonly value: unknown } | { readonly error: ErrorData }> | null = null;
  if (reply.errors.length > 0 || reply.values.length > 0) {
    sparse = new Map();
    for (const [i, error] of reply.errors) sparse.set(i, { error });
    for (const [i, value] of reply.values) sparse.set(i, { value });
  }
  const { changes, rowids } = reply;
  return {
    ops,
    next: 0,
    settle: (i) => {
      const special = sparse?.get(i);
      if (special === undefined) settle(ops[i]!, true, { changes: changes[i]!, lastInsertRowid: rowids[i]! });
      else if ('error' in special) settle(ops[i]!, false, errorFromData(special.error));
      else settle(ops[i]!, true, special.value);
    },
  };
}

/** The `litescribe:batch` diagnostics message of an answered batch. */
export function batchDiagnostics(queue: object, ops: readonly PendingOp[], reply: WriterReply | null, sentAt: number, bytes: number): BatchDiagnostics {
  const done = reply?.kind === 'batch-done' ? reply : null;
  return {
    queue,
    ops: ops.length,
    bytes,
    waitMs: sentAt - ops[0]!.enqueuedAt,
    commitMs: performance.now() - sentAt,
    committed: done?.committed ?? false,
    failed: done === null ? ops.length : done.errors.length,
    transactionOps: done?.transactionOps ?? 0,
    busyRetries: done?.busyRetries ?? 0,
    lockWaitMs: done?.lockWaitMs ?? 0,
  };
}
