/**
 * `@litescribe/kysely`: a Kysely `Dialect` over a litescribe queue. Kysely compiles (SQLite's
 * compiler); selects go to the reader threads, everything else through the queue, so concurrent
 * Kysely writes share transactions (group commit).
 */
import { SelectQueryNode, SqliteAdapter, SqliteIntrospector, SqliteQueryCompiler } from 'kysely';
import type { CompiledQuery, Compilable, DatabaseConnection, DatabaseIntrospector, Dialect, DialectAdapter, Driver, Kysely, QueryCompiler, QueryResult } from 'kysely';
import { InvalidSqlError } from '@litescribe/core';
import type { BindParams, RunResult, WriteQueue } from '@litescribe/core';

/** Raw SQL (`sql\`…\``) that reads: sent to a reader thread rather than the writer. */
const READ_VERB = /^\s*(select|with|values|explain)\b/i;

/** Why `db.transaction()` is refused, with what to use instead. */
const TRANSACTION_REFUSED =
  "Kysely's db.transaction() cannot run on litescribe: the queue's writer owns the transaction, and holding it open across awaits would stop group commit for every caller. Compile the queries and pass them to kyselyBatch(queue, [...]) (one atomic transaction), or use a procedure (q.call).";

function params(query: CompiledQuery): BindParams {
  return query.parameters as unknown as BindParams;
}

/** Whether a compiled query reads (goes to a reader thread) or writes (goes through the queue). */
function isRead(query: CompiledQuery): boolean {
  if (SelectQueryNode.is(query.query)) return true;
  return query.query.kind === 'RawNode' && READ_VERB.test(query.sql);
}

class LitescribeConnection implements DatabaseConnection {
  readonly #queue: WriteQueue;

  constructor(queue: WriteQueue) {
    this.#queue = queue;
  }

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    if (isRead(query)) return { rows: await this.#queue.all<R>(query.sql, params(query)) };
    // A write with `returning`/`returningAll` resolves with its rows, committed with it.
    const { changes, lastInsertRowid, rows } = await this.#queue.run(query.sql, params(query));
    return { rows: (rows ?? []) as R[], numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid) };
  }

  async *streamQuery<R>(query: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    if (!isRead(query)) throw new InvalidSqlError('stream() takes a select');
    yield { rows: await this.#queue.all<R>(query.sql, params(query)) };
  }
}

/**
 * SQLite's adapter, except that callers need not take turns: Kysely serializes every query of a
 * dialect with one connection behind a mutex, which would leave the queue one op at a time (1,000
 * concurrent inserts were 1,000 transactions). The queue orders and batches them itself.
 */
class LitescribeAdapter extends SqliteAdapter {
  override get supportsMultipleConnections(): boolean {
    return true;
  }

  override get supportsReturning(): boolean {
    return true;
  }
}

class LitescribeDriver implements Driver {
  readonly #connection: LitescribeConnection;

  constructor(queue: WriteQueue) {
    this.#connection = new LitescribeConnection(queue);
  }

  async init(): Promise<void> {}

  // One connection object for every caller: it holds no state, and the queue does the ordering.
  async acquireConnection(): Promise<DatabaseConnection> {
    return this.#connection;
  }

  async beginTransaction(): Promise<void> {
    throw new InvalidSqlError(TRANSACTION_REFUSED);
  }

  async commitTransaction(): Promise<void> {
    throw new InvalidSqlError(TRANSACTION_REFUSED);
  }

  async rollbackTransaction(): Promise<void> {}

  async releaseConnection(): Promise<void> {}

  /** The queue belongs to its opener: `db.destroy()` does not close it. */
  async destroy(): Promise<void> {}
}

/** Options of {@link LitescribeDialect}. */
export interface LitescribeDialectConfig {
  /** An open litescribe queue on a SQLite file. */
  readonly queue: WriteQueue;
}

/**
 * A Kysely dialect on a litescribe queue (SQLite): `new Kysely<DB>({ dialect: new LitescribeDialect({ queue }) })`.
 *
 * - selects (and raw `sql` starting with SELECT/WITH/VALUES/EXPLAIN) → `q.all` on a reader thread;
 * - inserts, updates, deletes, DDL → `q.run`: `numAffectedRows` and `insertId` as bigint, and with
 *   `returning`/`returningAll` the rows, committed in the same transaction;
 * - `db.transaction()` rejects with `InvalidSqlError`; use {@link kyselyBatch}.
 */
export class LitescribeDialect implements Dialect {
  readonly #queue: WriteQueue;

  constructor(config: LitescribeDialectConfig) {
    this.#queue = config.queue;
  }

  createDriver(): Driver {
    return new LitescribeDriver(this.#queue);
  }

  createQueryCompiler(): QueryCompiler {
    return new SqliteQueryCompiler();
  }

  createAdapter(): DialectAdapter {
    return new LitescribeAdapter();
  }

  createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
    return new SqliteIntrospector(db);
  }
}

/**
 * Runs Kysely-built writes as one atomic `q.batch`: all commit in one transaction, or — one of them
 * failing — none, and the call rejects with that statement's error.
 */
export function kyselyBatch(queue: WriteQueue, queries: ReadonlyArray<Compilable | CompiledQuery>): Promise<RunResult[]> {
  return queue.batch(
    queries.map((q) => {
      const compiled = 'compile' in q ? q.compile() : q;
      return { sql: compiled.sql, params: params(compiled) };
    }),
  );
}
