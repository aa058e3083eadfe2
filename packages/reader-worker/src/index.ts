/**
 * `@litescribe/reader-worker`: the code that runs inside litescribe's reader threads.
 *
 * `handleRead` is the piscina task handler; the types are the protocol shared with `@litescribe/core`.
 * `@litescribe/reader-worker/backup` is the entry of a backup thread (one per `backup()`).
 */
export { handleRead } from './handle-read.js';
export type { ReaderConfig, ReaderReply, ReaderTask } from './protocol.js';
export type { BackupConfig, BackupMessage } from './backup-protocol.js';
