/**
 * The whole protocol between the main thread (`@litescribe/core`) and the writer thread.
 *
 * Every message is a member of one discriminated union on `kind`. Each side handles them with an
 * exhaustive `switch` whose default throws, so adding a kind without handling it fails loudly.
 *
 * Transport: each {@link WriterTask} is one piscina task and its {@link WriterReply} is the task's
 * result. A batch of many operations travels as one task, so the thread hop is paid once per
 * transaction, not once per operation. Live notices (lock retries) travel separately on a
 * `BroadcastChannel` named in {@link WriterConfig.noticeChannel}, because a task has only one result.
 */

/** A value SQLite can bind: what better-sqlite3 accepts for a parameter. */
export type BindValue = null | number | bigint | string | Uint8Array;

/** Statement parameters: positional or named, as better-sqlite3 takes them. */
export type BindParams = readonly BindValue[] | Readonly<Record<string, BindValue>>;

/** Checkpoint modes, as `PRAGMA wal_checkpoint(MODE)` names them, in lower case. */
export type CheckpointMode = 'passive' | 'full' | 'restart' | 'truncate';

/** Values of `PRAGMA synchronous` the queue accepts. */
export type SynchronousMode = 'off' | 'normal' | 'full' | 'extra';

/** Settings every writer thread reads from `workerData`, so a replacement writer opens the same way. */
export interface WriterConfig {
  readonly path: string;
  readonly synchronous: SynchronousMode;
  readonly busyDeadlineMs: number;
  readonly busyRetryMinMs: number;
  readonly busyRetryMaxMs: number;
  readonly walTargetBytes: number;
  readonly walSoftLimitBytes: number;
  readonly checkpointWaitMs: number;
  readonly statementCacheSize: number;
  /** `file:` URL of the procedures module, or null. */
  readonly proceduresUrl: string | null;
  readonly allowUnsafeSqliteVersion: boolean;
  readonly noticeChannel: string;
  /** Most operations, and estimated bytes, in one transaction: a leader merges batches up to these. */
  readonly maxBatchOps: number;
  readonly maxBatchBytes: number;
  /** A leader skips a periodic checkpoint asked for when fewer commits than this went by (see handle-task). */
  readonly checkpointEveryCommits: number;
  /** …or, below the target WAL size, sooner than this after the last one (see checkpoint-policy). */
  readonly checkpointMinIntervalMs: number;
  /** Leader of a shared writer: where followers meet it. Null: this writer serves its own process only. */
  readonly share: { readonly socketName: string; readonly tokenPath: string } | null;
}

/** One operation inside a batch. */
export type OpMessage =
  | { readonly kind: 'run'; readonly sql: string; readonly params: BindParams | undefined }
  | { readonly kind: 'batch'; readonly statements: readonly StatementMessage[] }
  /** `args` is `v8.serialize(args)`, taken when `call()` is made: a snapshot the caller cannot mutate later. */
  | { readonly kind: 'call'; readonly name: string; readonly args: Uint8Array }
  /**
   * `runMany`: one statement, many parameter rows, one atomic op. `rows` is the rows in slices, each
   * `v8.serialize(BindParams[])`, made a slice per turn of the caller's event loop.
   */
  | { readonly kind: 'many'; readonly sql: string; readonly rows: readonly Uint8Array[] };

/** One statement of a `batch` operation. */
export interface StatementMessage {
  readonly sql: string;
  readonly params: BindParams | undefined;
}

/**
 * A batch: the operations of one transaction, in order, laid out so structured clone has few
 * objects to walk. `run` ops — the hot path — are an SQL index and their parameter array; the
 * distinct SQL texts travel once per batch. Any other op travels whole in `complex`.
 */
export interface BatchTask {
  readonly kind: 'batch';
  /** Number of operations. */
  readonly count: number;
  /** Estimated size (SQL text and parameters), what `maxBatchBytes` bounds. */
  readonly bytes: number;
  /** Distinct SQL texts of this batch's `run` ops. */
  readonly sql: readonly string[];
  /** Per op: index into `sql` for a `run` op, -1 for an op found in `complex`. */
  readonly sqlIndex: Int32Array;
  /** Per op: a `run` op's parameters (undefined for none, and for complex ops). */
  readonly params: ReadonlyArray<BindParams | undefined>;
  /** `[opIndex, op]` for every op that is not a plain `run`. */
  readonly complex: ReadonlyArray<readonly [number, OpMessage]>;
  /**
   * The sending queue's `safeIntegers`: its statements run with better-sqlite3's safe integers, and
   * each run's `lastInsertRowid` comes back as a bigint (in `values`, not the `rowids` column).
   */
  readonly safeIntegers?: boolean;
}

/** Tasks the main thread sends to the writer. */
export type WriterTask =
  | { readonly kind: 'open'; readonly setup: readonly string[] }
  | BatchTask
  | { readonly kind: 'checkpoint'; readonly mode: CheckpointMode | 'auto' }
  | { readonly kind: 'close' };

/** An error as plain data: postMessage drops class, `name` and `code`, so they travel as fields. */
export interface ErrorData {
  readonly name: string;
  readonly message: string;
  /** `ERR_*` for litescribe's own errors, `SQLITE_*` for SQLite's, absent otherwise. */
  readonly code?: string;
  /** For a procedure that threw: the procedure's name. */
  readonly procedure?: string;
  /** For an error that ended a whole batch: the index of the operation that caused it. */
  readonly opIndex?: number;
  /** PostgreSQL's DETAIL line, when the server sent one (e.g. which key was duplicated). */
  readonly detail?: string;
  /** The error underneath this one: for a COMMIT whose outcome is unknown, SQLite's own (`SQLITE_FULL`, `SQLITE_IOERR_*`). */
  readonly cause?: ErrorData;
}

/** What `run` resolves to: better-sqlite3's `RunResult`, and the rows of a statement that returns some. */
export interface RunResult {
  readonly changes: number;
  readonly lastInsertRowid: number | bigint;
  /**
   * The rows of a write that returns rows (`INSERT/UPDATE/DELETE … RETURNING`), as objects keyed by
   * column name, committed with it. Absent for a statement that returns none.
   */
  readonly rows?: Array<Record<string, unknown>>;
}

/**
 * Reply to a {@link BatchTask}. Per-op results are columns: a `run` op's `RunResult` is
 * `{ changes: changes[i], lastInsertRowid: rowids[i] }` (typed arrays clone as one copy); other ops'
 * values and every error are sparse `[opIndex, …]` pairs. An op with an entry in `errors` failed.
 */
export interface BatchDone {
  readonly kind: 'batch-done';
  /** False when the transaction did not commit: every op then has an entry in `errors`. */
  readonly committed: boolean;
  readonly changes: Float64Array;
  readonly rowids: Float64Array;
  readonly values: ReadonlyArray<readonly [number, unknown]>;
  readonly errors: ReadonlyArray<readonly [number, ErrorData]>;
  readonly busyRetries: number;
  readonly lockWaitMs: number;
  readonly walBytes: number;
  /** Operations in the whole transaction: with a shared writer, other processes' too. */
  readonly transactionOps: number;
}

/** Figures of one checkpoint, also the payload of the queue's `'checkpoint'` event. */
export interface CheckpointReport {
  /** The mode asked for, or the mode escalated to. */
  readonly mode: CheckpointMode;
  /** Why it ran: every N commits, on request, over the WAL soft limit, or at close. */
  readonly reason: 'interval' | 'request' | 'wal-limit' | 'close';
  /** True when the checkpoint could not finish because of readers or another checkpointer. */
  readonly busy: boolean;
  /** Frames in the WAL, and how many of them are now in the database file (-1 when unknown). */
  readonly walFrames: number;
  readonly checkpointedFrames: number;
  readonly walBytesBefore: number;
  readonly walBytesAfter: number;
  readonly durationMs: number;
  /**
   * True for a TRUNCATE the periodic policy added: the WAL file was over `walTargetBytes` (one
   * attempt, after a PASSIVE pass), or over `walSoftLimitBytes` (reason `wal-limit`, with waiting).
   */
  readonly escalated: boolean;
}

/** Replies, one per task kind. */
export type WriterReply =
  | {
      readonly kind: 'opened';
      readonly sqliteVersion: string;
      readonly procedures: readonly string[];
      readonly walBytes: number;
      /** Set by the PostgreSQL writer (`sqliteVersion` is then empty): the server's `server_version`. */
      readonly postgresVersion?: string;
    }
  | BatchDone
  | { readonly kind: 'checkpointed'; readonly reports: readonly CheckpointReport[] }
  | { readonly kind: 'closed'; readonly reports: readonly CheckpointReport[] }
  | { readonly kind: 'failed'; readonly error: ErrorData };

/** Live notices the writer broadcasts while a task runs. */
export type WriterNotice = {
  readonly kind: 'retry';
  readonly attempt: number;
  readonly delayMs: number;
  readonly code: string;
  readonly waitedMs: number;
};

/** Codes of litescribe's own errors that the writer produces. */
export const WriterErrorCode = {
  busyTimeout: 'ERR_BUSY_TIMEOUT',
  /** The outcome of the operation is unknown (a writer that died with it, a COMMIT that failed). */
  workerExited: 'ERR_WORKER_EXITED',
  invalidSql: 'ERR_INVALID_SQL',
  invalidParams: 'ERR_INVALID_PARAMS',
  unknownProcedure: 'ERR_UNKNOWN_PROCEDURE',
  procedureFailed: 'ERR_PROCEDURE_FAILED',
  invalidOption: 'ERR_INVALID_OPTION',
  unsafeSqliteVersion: 'ERR_UNSAFE_SQLITE_VERSION',
  transactionLost: 'ERR_TRANSACTION_LOST',
  shareRefused: 'ERR_SHARE_REFUSED',
  serverUnavailable: 'ERR_SERVER_UNAVAILABLE',
  notSupported: 'ERR_NOT_SUPPORTED',
  unsafeFile: 'ERR_UNSAFE_FILE',
  fileReplaced: 'ERR_FILE_REPLACED',
  notWritable: 'ERR_NOT_WRITABLE',
  networkFileSystem: 'ERR_NETWORK_FILE_SYSTEM',
  /** Internal: another process bound the leader socket first; the opener follows it instead. */
  leaderExists: 'ERR_LEADER_EXISTS',
} as const;
