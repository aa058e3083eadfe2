import { channel } from 'node:diagnostics_channel';
import type { CheckpointReport, WriterNotice } from '@litescribe/writer-worker';

/**
 * `node:diagnostics_channel` channels, named the way undici and fastify name theirs. Subscribe with
 * `diagnostics_channel.subscribe(name, fn)`; nothing is built or published while no one listens.
 * Every message carries `queue`, the `WriteQueue` it concerns.
 */
export const DIAGNOSTICS_CHANNELS = {
  /** A batch the writer answered: committed, or failed as a whole. {@link BatchDiagnostics}. */
  batch: 'litescribe:batch',
  /** The writer hit contention and will try again. {@link RetryDiagnostics}. */
  retry: 'litescribe:retry',
  /** A checkpoint ran. {@link CheckpointDiagnostics}. */
  checkpoint: 'litescribe:checkpoint',
} as const;

/** Payload of `litescribe:batch`. Times in ms, from `performance.now()` on the caller's thread. */
export interface BatchDiagnostics {
  readonly queue: object;
  /** Operations of this queue in the batch, and their estimated bytes. */
  readonly ops: number;
  readonly bytes: number;
  /** How long the batch's oldest operation waited in the queue before the batch was sent. */
  readonly waitMs: number;
  /** From sending the batch to its reply: the transaction, plus any wait behind the task before it. */
  readonly commitMs: number;
  /** Whether the transaction committed (its operations may still have failed one by one). */
  readonly committed: boolean;
  /** Operations of the batch that were rejected. */
  readonly failed: number;
  /** Operations in the whole transaction (other processes' too, with a shared writer). */
  readonly transactionOps: number;
  /** Lock or serialization retries of this batch, and the time they took. */
  readonly busyRetries: number;
  readonly lockWaitMs: number;
}

/** Payload of `litescribe:retry`: the `'retry'` event's payload plus the queue. */
export type RetryDiagnostics = WriterNotice & { readonly queue: object };

/** Payload of `litescribe:checkpoint`: the `'checkpoint'` event's report plus the queue. */
export type CheckpointDiagnostics = CheckpointReport & { readonly queue: object };

export const batchChannel = channel(DIAGNOSTICS_CHANNELS.batch);
export const retryChannel = channel(DIAGNOSTICS_CHANNELS.retry);
export const checkpointChannel = channel(DIAGNOSTICS_CHANNELS.checkpoint);
