import type { CheckpointMode, CheckpointReport, OpMessage } from '@litescribe/writer-worker';

/** An operation's life in the scheduler: waiting for room, queued, sent, settled. */
export const enum OpState {
  /** Accepted, waiting for room (`onFull: 'wait'`). */
  Waiting,
  /** In the queue, not yet sent. */
  Queued,
  /** Sent to the writer in a batch; can no longer be cancelled. */
  Sent,
  /** Resolved or rejected. */
  Settled,
}

/** One accepted operation, from `enqueue()` until its promise settles. */
export interface PendingOp {
  /** Set later for an op still being prepared (see `ready`). */
  msg: OpMessage;
  bytes: number;
  /** False while the message is still being prepared (`runMany`): nothing behind it is sent. */
  ready: boolean;
  readonly seq: number;
  readonly enqueuedAt: number;
  readonly resolve: (value: unknown) => void;
  readonly reject: (reason: unknown) => void;
  readonly signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  state: OpState;
}

/** A `checkpoint()` call waiting to go between batches. */
export interface CheckpointRequest {
  readonly mode: CheckpointMode;
  readonly resolve: (report: CheckpointReport) => void;
  readonly reject: (reason: unknown) => void;
}
