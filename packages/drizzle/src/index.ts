/**
 * `@litescribe/drizzle`: Drizzle ORM on a litescribe queue, through Drizzle's `sqlite-proxy` driver.
 * Writes (`method: 'run'`) go through the queue and share its group commit; reads go to the reader
 * threads with rows as arrays (what Drizzle maps from); `db.batch([...])` is one atomic `q.batch`.
 */
import { drizzle } from 'drizzle-orm/sqlite-proxy';
import type { AsyncBatchRemoteCallback, AsyncRemoteCallback, SqliteRemoteDatabase } from 'drizzle-orm/sqlite-proxy';
import type { DrizzleConfig } from 'drizzle-orm';
import { InvalidSqlError } from '@litescribe/core';
import type { BindParams, WriteQueue } from '@litescribe/core';

const TRANSACTION_CONTROL = /^\s*(begin|commit|rollback|end|savepoint|release)\b/i;

function refuseTransaction(sql: string): void {
  if (TRANSACTION_CONTROL.test(sql)) {
    throw new InvalidSqlError(
      `Drizzle's db.transaction() cannot run on litescribe (${JSON.stringify(sql.trim().slice(0, 20))}): the queue's writer owns the transaction, and holding it open across awaits would stop group commit for every caller. Use db.batch([...]) (one atomic transaction) or a procedure (q.call).`,
    );
  }
}

/**
 * Drizzle sends `insert/update/delete … .returning()` with method `all` or `get`: those are writes,
 * and go through the queue, which resolves them with their rows (as objects keyed by column).
 * Drizzle maps rows from arrays in select order: the column order of the RETURNING list, which is
 * the objects' key order (columns of one table have distinct names).
 */
const WRITE_VERB = /^\s*(insert|update|delete|replace)\b/i;

function asArrays(rows: ReadonlyArray<Record<string, unknown>> | undefined): unknown[][] {
  return (rows ?? []).map((row) => Object.values(row));
}

/**
 * Opens Drizzle on `queue`. `config` is Drizzle's own (`schema`, `logger`, `casing`).
 *
 * - `select` → `q.all`/`q.get` on a reader thread; `insert`/`update`/`delete` → `q.run` (their
 *   `.run()` result is `{ rows: [], changes, lastInsertRowid }`).
 * - `db.batch([...])` of writes → one `q.batch`: all commit or none, never split.
 * - `.returning()` on a write → `q.run`, resolved with its rows, committed with it (in a batch too).
 * - A batch holding reads, and `db.transaction()`, reject with `InvalidSqlError` (see the README
 *   for why and what to use instead).
 */
export function drizzleQueue<TSchema extends Record<string, unknown> = Record<string, never>>(
  queue: WriteQueue,
  config: DrizzleConfig<TSchema> = {},
): SqliteRemoteDatabase<TSchema> {
  const callback: AsyncRemoteCallback = async (sql, params, method) => {
    const bound = params as unknown as BindParams;
    if (method === 'run') {
      refuseTransaction(sql);
      const { changes, lastInsertRowid } = await queue.run(sql, bound);
      return { rows: [], changes, lastInsertRowid };
    }
    if (WRITE_VERB.test(sql)) {
      const rows = asArrays((await queue.run(sql, bound)).rows);
      return { rows: method === 'get' ? (rows[0] as unknown as unknown[]) : rows };
    }
    if (method === 'get') return { rows: (await queue.get<unknown[]>(sql, bound, { rowMode: 'array' })) as unknown as unknown[] };
    return { rows: await queue.all<unknown[]>(sql, bound, { rowMode: 'array' }) };
  };
  const batchCallback: AsyncBatchRemoteCallback = async (queries) => {
    const reads = queries.filter((q) => q.method !== 'run' && !WRITE_VERB.test(q.sql));
    if (reads.length > 0) {
      throw new InvalidSqlError(
        `db.batch() through litescribe takes writes only (with or without .returning()), got ${reads.length} reads (${reads.map((q) => q.method).join(', ')}): a batch is one write transaction in the writer; read before or after it`,
      );
    }
    for (const q of queries) refuseTransaction(q.sql);
    const results = await queue.batch(queries.map((q) => ({ sql: q.sql, params: q.params as unknown as BindParams })));
    return results.map(({ changes, lastInsertRowid, rows }, k) => {
      if (queries[k]!.method === 'run') return { rows: [], changes, lastInsertRowid };
      const arrays = asArrays(rows);
      return { rows: queries[k]!.method === 'get' ? (arrays[0] as unknown as unknown[]) : arrays };
    });
  };
  return drizzle(callback, batchCallback, config);
}
