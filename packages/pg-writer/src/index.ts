/**
 * `@litescribe/pg-writer`: litescribe's writer and readers on PostgreSQL. `@litescribe/core` runs
 * `handleTask` in its writer thread and `handleRead` in its reader thread when it is opened with a
 * `postgres://` URL; nothing here is loaded otherwise.
 */
export { handleTask } from './handle-task.js';
export { handleRead } from './handle-read.js';
export { PgWriter } from './pg-writer.js';
export type { PgProcedure, PgProcedureClient } from './pg-batch.js';
export type { PgIsolation, PgReaderConfig, PgWriterConfig } from './protocol.js';
