import { BroadcastChannel, workerData } from 'node:worker_threads';
import { runBatch } from './batch-runner.js';
import type { BusyRetryPolicy } from './busy-retry.js';
import { checkpoint } from './checkpointer.js';
import { toErrorData } from './error-data.js';
import type { WriterConfig, WriterNotice, WriterReply, WriterTask } from './protocol.js';
import { WriterConnection } from './writer-connection.js';

// One writer thread, one connection. A replacement thread (after a crash) starts with none and
// opens it on its first task from the same workerData, so it behaves exactly like the first.
const config = workerData as WriterConfig;
let connection: WriterConnection | null = null;
let notices: BroadcastChannel | null = null;

const retryPolicy: BusyRetryPolicy = {
  deadlineMs: config?.busyDeadlineMs ?? 0,
  minDelayMs: config?.busyRetryMinMs ?? 1,
  maxDelayMs: config?.busyRetryMaxMs ?? 1,
  onRetry: (notice: WriterNotice) => {
    notices ??= new BroadcastChannel(config.noticeChannel);
    notices.postMessage(notice);
  },
};

async function connect(): Promise<WriterConnection> {
  connection ??= await WriterConnection.open(config, retryPolicy);
  return connection;
}

// Tasks run strictly one after another. The main thread keeps a second task queued here while the
// first runs (so the writer never idles waiting for the main thread to hand it the next batch);
// piscina may deliver it while the first is awaiting, and two batches interleaved on one connection
// would share a transaction.
let tail: Promise<unknown> = Promise.resolve();

/**
 * The writer thread's task handler (piscina calls it by this name). Never throws: every failure
 * comes back as data so the main thread can type it; a rejected task therefore means the thread
 * itself died.
 */
export function handleTask(task: WriterTask): Promise<WriterReply> {
  const reply = tail.then(() => runTask(task));
  tail = reply;
  return reply;
}

async function runTask(task: WriterTask): Promise<WriterReply> {
  try {
    switch (task.kind) {
      case 'open': {
        const conn = await connect();
        await conn.applySetup(task.setup, retryPolicy);
        return {
          kind: 'opened',
          sqliteVersion: conn.sqliteVersion,
          procedures: [...conn.procedures.keys()],
          walBytes: conn.walBytes(),
        };
      }
      case 'batch':
        return await runBatch(await connect(), task, retryPolicy);
      case 'checkpoint': {
        const reason = task.mode === 'auto' ? 'interval' : 'request';
        return { kind: 'checkpointed', reports: await checkpoint(await connect(), task.mode, reason) };
      }
      case 'close': {
        if (connection === null) return { kind: 'closed', reports: [] };
        const conn = connection;
        const reports = await checkpoint(conn, 'truncate', 'close');
        connection = null;
        conn.close();
        notices?.close();
        notices = null;
        return { kind: 'closed', reports };
      }
      default:
        throw new Error(`writer got an unknown task kind: ${JSON.stringify((task as { kind: unknown }).kind)}`);
    }
  } catch (err) {
    return { kind: 'failed', error: toErrorData(err) };
  }
}
