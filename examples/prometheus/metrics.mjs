// litescribe as Prometheus metrics: stats() read at scrape time, plus the diagnostics_channel
// events (batches, retries, checkpoints) as histograms and counters. No wrapping of the queue's API.
import { subscribe } from 'node:diagnostics_channel';
import { DIAGNOSTICS_CHANNELS } from '@litescribe/core';
import client from 'prom-client';

/**
 * Registers litescribe's metrics for `queue` on `registry` (prom-client's). Returns a function that
 * stops listening to the channels.
 */
export function registerLitescribeMetrics(queue, registry = client.register) {
  const gauge = (name, help, read) =>
    new client.Gauge({ name, help, registers: [registry], collect() { this.set(read(queue.stats())); } });
  gauge('litescribe_ops_committed', 'Operations committed (resolved) since open.', (s) => s.opsCommitted);
  gauge('litescribe_ops_failed', 'Operations rejected since open.', (s) => s.opsFailed);
  gauge('litescribe_queue_depth', 'Operations accepted and not yet settled.', (s) => s.queueDepth);
  gauge('litescribe_transactions', 'Transactions committed since open.', (s) => s.transactions);
  gauge('litescribe_wal_bytes', 'WAL file size when last seen.', (s) => s.walBytes);

  const batchOps = new client.Histogram({ name: 'litescribe_batch_ops', help: 'Operations per batch.', buckets: [1, 4, 16, 64, 256, 512, 1024, 4096], registers: [registry] });
  const wait = new client.Histogram({ name: 'litescribe_batch_wait_seconds', help: 'Time the oldest op of a batch waited before it was sent.', buckets: client.exponentialBuckets(0.0001, 4, 8), registers: [registry] });
  const commit = new client.Histogram({ name: 'litescribe_batch_commit_seconds', help: 'From sending a batch to its commit.', buckets: client.exponentialBuckets(0.0001, 4, 8), registers: [registry] });
  const retries = new client.Counter({ name: 'litescribe_retries_total', help: 'Lock or serialization retries.', labelNames: ['code'], registers: [registry] });
  const checkpoints = new client.Counter({ name: 'litescribe_checkpoints_total', help: 'Checkpoints run.', labelNames: ['mode', 'busy'], registers: [registry] });

  const onBatch = (m) => {
    if (m.queue !== queue) return;
    batchOps.observe(m.ops);
    wait.observe(m.waitMs / 1000);
    commit.observe(m.commitMs / 1000);
  };
  const onRetry = (m) => m.queue === queue && retries.inc({ code: m.code });
  const onCheckpoint = (m) => m.queue === queue && checkpoints.inc({ mode: m.mode, busy: String(m.busy) });
  subscribe(DIAGNOSTICS_CHANNELS.batch, onBatch);
  subscribe(DIAGNOSTICS_CHANNELS.retry, onRetry);
  subscribe(DIAGNOSTICS_CHANNELS.checkpoint, onCheckpoint);
  return async () => {
    const { unsubscribe } = await import('node:diagnostics_channel');
    unsubscribe(DIAGNOSTICS_CHANNELS.batch, onBatch);
    unsubscribe(DIAGNOSTICS_CHANNELS.retry, onRetry);
    unsubscribe(DIAGNOSTICS_CHANNELS.checkpoint, onCheckpoint);
  };
}
