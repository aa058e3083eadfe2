/**
 * What the PostgreSQL writer and reader threads read from `workerData`. Tasks and replies are the
 * SQLite writer's own protocol (`@litescribe/writer-worker`'s `WriterTask`/`WriterReply`, and the
 * reader's `ReaderTask`/`ReaderReply`): the scheduler does not know which engine answers.
 */

/** Isolation level of every batch transaction (`BEGIN ISOLATION LEVEL …`). */
export type PgIsolation = 'read committed' | 'repeatable read' | 'serializable';

export interface PgWriterConfig {
  /** `postgres://` or `postgresql://` connection URL, as node-postgres takes it. */
  readonly url: string;
  readonly isolation: PgIsolation;
  /** How long a batch keeps retrying serialization failures, deadlocks and lost connections. */
  readonly busyDeadlineMs: number;
  readonly busyRetryMinMs: number;
  readonly busyRetryMaxMs: number;
  /** `file:` URL of the procedures module (`async (client, args) => result` exports), or null. */
  readonly proceduresUrl: string | null;
  readonly noticeChannel: string;
  /**
   * Distinct SQL texts the writer prepares as named statements on its connection (parsed once per
   * connection); texts beyond this many run unnamed, parsed every time. 0: none.
   */
  readonly statementCacheSize: number;
  /**
   * How one failing op is kept from failing the rest (internal; the bench compares the two):
   * `'rerun'` (default) runs the ops without savepoints and, only when one fails, rolls back and runs
   * them again with a savepoint each (and the next few batches start with savepoints);
   * `'savepoint-per-op'` always wraps each op in one.
   */
  readonly failureIsolation?: 'rerun' | 'savepoint-per-op';
  /** How runMany runs (internal; the bench compares the two): set-based where it can (default), or a statement per row. */
  readonly bulk?: 'set' | 'per-statement';
}

export interface PgReaderConfig {
  readonly url: string;
  /** Connections in the read pool: reads run in parallel up to this many. */
  readonly connections: number;
  /** Bounds every wait of a read on the server: connecting, the statement, its answer. */
  readonly busyDeadlineMs: number;
}
