import { BroadcastChannel, workerData } from 'node:worker_threads';
import type { WriterNotice, WriterReply, WriterTask } from '@litescribe/writer-worker';
import { PgWriter } from './pg-writer.js';
import type { PgWriterConfig } from './protocol.js';

// One writer thread, one connection. A replacement thread (after a crash) connects again on its
// first task from the same workerData; setup is not run again (it ran once, at open).
const config = workerData as PgWriterConfig;
let notices: BroadcastChannel | null = null;
let writer: PgWriter | null = null;

function notify(notice: WriterNotice): void {
  notices ??= new BroadcastChannel(config.noticeChannel);
  notices.postMessage(notice);
}

/** The PostgreSQL writer thread's piscina task handler. Never throws: failures come back as data. */
export function handleTask(task: WriterTask): Promise<WriterReply> {
  writer ??= new PgWriter(config, notify);
  const reply = writer.run(task);
  if (task.kind === 'close') void reply.then(() => notices?.close());
  return reply;
}
