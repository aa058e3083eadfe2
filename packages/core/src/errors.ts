import type { ErrorData } from '@litescribe/writer-worker';

/**
 * Every error litescribe raises has a stable `code`. Match on `code` (or `instanceof`), never on
 * the message. The README's error table lists each code; a test keeps the two in step.
 */
export abstract class LitescribeError extends Error {
  abstract readonly code: string;
}

/** The queue is closing or closed (or was destroyed); no new operation is accepted. */
export class QueueClosedError extends LitescribeError {
  override readonly name = 'QueueClosedError';
  readonly code = 'ERR_QUEUE_CLOSED';
  constructor(message = 'the write queue is closed', options?: ErrorOptions) {
    super(message, options);
  }
}

/** `maxQueue` operations are already waiting and `onFull` is `'reject'`. */
export class QueueFullError extends LitescribeError {
  override readonly name = 'QueueFullError';
  readonly code = 'ERR_QUEUE_FULL';
  constructor(readonly maxQueue: number) {
    super(`the write queue is full (maxQueue = ${maxQueue} operations waiting)`);
  }
}

/** The database stayed locked by another connection past `busyDeadlineMs`; nothing was written. */
export class BusyTimeoutError extends LitescribeError {
  override readonly name = 'BusyTimeoutError';
  readonly code = 'ERR_BUSY_TIMEOUT';
}

/**
 * The writer thread ended while this operation was with it. Whether it committed is unknown, so it
 * is rejected and never replayed: check the database before retrying.
 */
export class WorkerExitedError extends LitescribeError {
  override readonly name = 'WorkerExitedError';
  readonly code = 'ERR_WORKER_EXITED';
}

/** SQL that is not a single allowed statement (empty, several statements, transaction control, …). */
export class InvalidSqlError extends LitescribeError {
  override readonly name = 'InvalidSqlError';
  readonly code = 'ERR_INVALID_SQL';
}

/** Parameters or procedure arguments that SQLite cannot bind or that cannot cross threads. */
export class InvalidParamsError extends LitescribeError {
  override readonly name = 'InvalidParamsError';
  readonly code = 'ERR_INVALID_PARAMS';
}

/** `call()` named a procedure the procedures module does not export. */
export class UnknownProcedureError extends LitescribeError {
  override readonly name = 'UnknownProcedureError';
  readonly code = 'ERR_UNKNOWN_PROCEDURE';
}

/** An option (or a method's option argument) has a bad value; the message names it and shows it. */
export class InvalidOptionError extends LitescribeError {
  override readonly name = 'InvalidOptionError';
  readonly code = 'ERR_INVALID_OPTION';
}

/** A procedure threw something other than a SQLite error, or returned what cannot cross threads. */
export class ProcedureError extends LitescribeError {
  override readonly name = 'ProcedureError';
  readonly code = 'ERR_PROCEDURE_FAILED';
  constructor(
    message: string,
    readonly procedure: string | undefined,
  ) {
    super(message);
  }
}

/** An operation ended the batch transaction itself (COMMIT/ROLLBACK in a procedure); outcome unknown. */
export class TransactionLostError extends LitescribeError {
  override readonly name = 'TransactionLostError';
  readonly code = 'ERR_TRANSACTION_LOST';
}

/** The SQLite library has the WAL-reset corruption bug and `allowUnsafeSqliteVersion` is not set. */
export class UnsafeSqliteVersionError extends LitescribeError {
  override readonly name = 'UnsafeSqliteVersionError';
  readonly code = 'ERR_UNSAFE_SQLITE_VERSION';
}

/**
 * The shared writer could not be used: the token file that proves access is not owner-only, the
 * leader refused this process's proof, or whoever holds the socket could not prove it is a leader.
 * Nothing of the operation was handed over. `shareWriter: 'off'` opens without sharing.
 */
export class ShareRefusedError extends LitescribeError {
  override readonly name = 'ShareRefusedError';
  readonly code = 'ERR_SHARE_REFUSED';
}

/**
 * The database file, or a file beside it (`-wal`, `-shm`, the leader token), is not this user's
 * own: owned by another uid, writable by others, or a symbolic link where SQLite expects a file.
 * Another user could have planted it, or could change or read what is written. The message names
 * the file and the fix; nothing was opened.
 */
export class UnsafeFileError extends LitescribeError {
  override readonly name = 'UnsafeFileError';
  readonly code = 'ERR_UNSAFE_FILE';
}

/**
 * The database file or its `-wal` was deleted or replaced while the queue had it open (a cleanup
 * script, a sync tool, a restored backup renamed over it). What the writer committed from then on
 * went into a generation of the file nobody reads again, so it is never acknowledged: the
 * operation that found it and every later one reject with this error, no checkpoint of the old
 * generation runs (not even at close), and a leader steps down. The message says which file
 * changed; close the queue, check the file, and open it again.
 */
export class FileReplacedError extends LitescribeError {
  override readonly name = 'FileReplacedError';
  readonly code = 'ERR_FILE_REPLACED';
}

/**
 * At open: this process cannot write the database file, its `-wal` or `-shm`, or its folder
 * (read-only file, read-only folder, read-only file system). The message names the file and why;
 * nothing was opened.
 */
export class NotWritableError extends LitescribeError {
  override readonly name = 'NotWritableError';
  readonly code = 'ERR_NOT_WRITABLE';
}

/**
 * At open: the database is on a network or cross-VM file system (NFS, SMB/CIFS, 9p, virtiofs, …)
 * where SQLite's WAL can corrupt it silently. The message names the file system and its mount;
 * `allowNetworkFileSystem: true` opens it anyway (only when every process using it runs on this host).
 */
export class NetworkFileSystemError extends LitescribeError {
  override readonly name = 'NetworkFileSystemError';
  readonly code = 'ERR_NETWORK_FILE_SYSTEM';
}

/**
 * PostgreSQL could not be reached (at open, or for longer than `busyDeadlineMs` later on). Nothing
 * of the operation ran; the queue stays usable and tries again for the next batch.
 */
export class ServerUnavailableError extends LitescribeError {
  override readonly name = 'ServerUnavailableError';
  readonly code = 'ERR_SERVER_UNAVAILABLE';
}

/**
 * PostgreSQL accepted the connection but sent nothing for longer than the bound (`busyDeadlineMs`
 * plus a short margin): a stopped server, a half-open connection, a proxy that hangs. The
 * connection was dropped; the next call opens a new one.
 */
export class ServerTimeoutError extends LitescribeError {
  override readonly name = 'ServerTimeoutError';
  readonly code = 'ERR_SERVER_TIMEOUT';
}

/**
 * PostgreSQL: the connection was lost while the operation's COMMIT was in flight, and the server
 * said afterwards (`txid_status`) that the transaction did not commit. Nothing of the operation is
 * in the database; it is safe to run it again.
 */
export class NotCommittedError extends LitescribeError {
  override readonly name = 'NotCommittedError';
  readonly code = 'ERR_NOT_COMMITTED';
}

/**
 * This Node.js is older than litescribe supports (22.12). better-sqlite3 13 crashes the whole
 * process on Node 20, so the queue refuses to open before any thread loads it. The message names
 * both versions.
 */
export class UnsupportedNodeError extends LitescribeError {
  override readonly name = 'UnsupportedNodeError';
  readonly code = 'ERR_UNSUPPORTED_NODE';
}

/** The method does not apply to this engine (e.g. `checkpoint()` on PostgreSQL). */
export class NotSupportedError extends LitescribeError {
  override readonly name = 'NotSupportedError';
  readonly code = 'ERR_NOT_SUPPORTED';
}

/**
 * An error from the PostgreSQL server; `code` is its SQLSTATE, e.g. `23505` (unique violation),
 * `detail` its DETAIL line when it sent one.
 */
export class PostgresError extends Error {
  override readonly name = 'PostgresError';
  constructor(
    message: string,
    readonly code: string,
    readonly detail?: string,
    readonly procedure?: string,
  ) {
    super(message);
  }
}

/** An error from SQLite itself; `code` is SQLite's extended code, e.g. `SQLITE_CONSTRAINT_UNIQUE`. */
export class SqliteError extends Error {
  override readonly name = 'SqliteError';
  constructor(
    message: string,
    readonly code: string,
    readonly procedure?: string,
  ) {
    super(message);
  }
}

type CodedErrorClass = new (message: string, options?: ErrorOptions) => LitescribeError;

const BY_CODE: Record<string, CodedErrorClass> = {
  ERR_BUSY_TIMEOUT: BusyTimeoutError,
  ERR_WORKER_EXITED: WorkerExitedError,
  ERR_INVALID_SQL: InvalidSqlError,
  ERR_INVALID_PARAMS: InvalidParamsError,
  ERR_UNKNOWN_PROCEDURE: UnknownProcedureError,
  ERR_INVALID_OPTION: InvalidOptionError,
  ERR_TRANSACTION_LOST: TransactionLostError,
  ERR_UNSAFE_SQLITE_VERSION: UnsafeSqliteVersionError,
  ERR_SHARE_REFUSED: ShareRefusedError,
  ERR_SERVER_UNAVAILABLE: ServerUnavailableError,
  ERR_SERVER_TIMEOUT: ServerTimeoutError,
  ERR_NOT_COMMITTED: NotCommittedError,
  ERR_NOT_SUPPORTED: NotSupportedError,
  ERR_UNSAFE_FILE: UnsafeFileError,
  ERR_FILE_REPLACED: FileReplacedError,
  ERR_NOT_WRITABLE: NotWritableError,
  ERR_NETWORK_FILE_SYSTEM: NetworkFileSystemError,
  ERR_UNSUPPORTED_NODE: UnsupportedNodeError,
};

/** Every `code` litescribe can put on an error it raises itself. */
export const ERROR_CODES = [
  'ERR_QUEUE_CLOSED',
  'ERR_QUEUE_FULL',
  ...Object.keys(BY_CODE),
  'ERR_PROCEDURE_FAILED',
] as const;

/** Rebuilds a typed error from the plain data the writer sent, and its `cause`. */
export function errorFromData(data: ErrorData): Error {
  const code = data.code;
  if (code === 'ERR_PROCEDURE_FAILED') return new ProcedureError(data.message, data.procedure);
  if (code !== undefined && code.startsWith('SQLITE_')) return new SqliteError(data.message, code, data.procedure);
  if (data.name === 'PostgresError') return new PostgresError(data.message, code ?? '', data.detail, data.procedure);
  // A leader's reply was checked by the link's replyProblem before it gets here, its cause too.
  const options = data.cause === undefined ? undefined : { cause: errorFromData(data.cause) };
  const Known = code === undefined ? undefined : BY_CODE[code];
  if (Known !== undefined) return new Known(data.message, options);
  const err = new Error(data.message, options);
  err.name = data.name;
  return err;
}

/** `String(value)` with its type, for messages: ``got `0` (number)``. */
export function describeValue(value: unknown): string {
  let shown: string;
  try {
    shown = typeof value === 'string' ? JSON.stringify(value) : typeof value === 'bigint' ? `${value}n` : String(value);
  } catch {
    shown = Object.prototype.toString.call(value);
  }
  if (shown.length > 80) shown = `${shown.slice(0, 77)}...`;
  const type = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  return `\`${shown}\` (${type})`;
}
