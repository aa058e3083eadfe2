/**
 * `@litescribe/core`: many callers, one SQLite writer thread. The main-thread API.
 */
export { openWriteQueue } from './open-write-queue.js';
export { WriteQueue } from './write-queue.js';
export type { CallOptions, IterateOptions, ReadOptions, RetryEvent, Statement, WriteQueueEvents } from './write-queue.js';
export { DEFAULT_OPTIONS } from './options.js';
export { backupFile } from './backup-file.js';
export type { BackupOptions, BackupProgress, BackupResult } from './backup-file.js';
export { DIAGNOSTICS_CHANNELS } from './diagnostics.js';
export type { BatchDiagnostics, CheckpointDiagnostics, RetryDiagnostics } from './diagnostics.js';
export type { WriteQueueOptions } from './options.js';
export type { QueueStats } from './queue-stats.js';
export type { RoleChange, WriterRole } from './share/shared-writer.js';
export {
  BusyTimeoutError,
  ERROR_CODES,
  InvalidOptionError,
  InvalidParamsError,
  InvalidSqlError,
  LitescribeError,
  NotSupportedError,
  PostgresError,
  ProcedureError,
  QueueClosedError,
  QueueFullError,
  ServerUnavailableError,
  ServerTimeoutError,
  NotCommittedError,
  ShareRefusedError,
  UnsafeFileError,
  FileReplacedError,
  NotWritableError,
  NetworkFileSystemError,
  SqliteError,
  TransactionLostError,
  UnknownProcedureError,
  UnsafeSqliteVersionError,
  UnsupportedNodeError,
  WorkerExitedError,
} from './errors.js';
export type {
  BindParams,
  BindValue,
  CheckpointMode,
  CheckpointReport,
  RunResult,
  SynchronousMode,
} from '@litescribe/writer-worker';
