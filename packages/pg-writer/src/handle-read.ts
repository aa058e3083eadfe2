import { workerData } from 'node:worker_threads';
import pg from 'pg';
import type { ReaderReply, ReaderTask } from '@litescribe/reader-worker';
import { extended } from './pg-batch.js';
import { isConnectionError, isServerError, pgErrorData } from './pg-error-data.js';
import { SILENCE_MARGIN_MS, serverBoundMs } from './server-bound.js';
import type { PgReaderConfig } from './protocol.js';

const config = workerData as PgReaderConfig;
let pool: pg.Pool | null = null;

function readPool(): pg.Pool {
  if (pool === null) {
    pool = new pg.Pool({
      connectionString: config.url,
      max: config.connections,
      // Reads must change nothing: the server refuses a write on these connections (25006).
      options: '-c default_transaction_read_only=on',
      application_name: 'litescribe-reader',
      idleTimeoutMillis: 30_000,
      // Every wait on the server is bounded: connecting (a server that accepts and says nothing),
      // the statement (the server ends it: 57014), and its answer (a server that went silent; the
      // pool then drops that connection).
      connectionTimeoutMillis: serverBoundMs(config.busyDeadlineMs),
      statement_timeout: serverBoundMs(config.busyDeadlineMs),
      query_timeout: serverBoundMs(config.busyDeadlineMs) + SILENCE_MARGIN_MS,
    });
    // An idle connection the server drops (restart) is replaced on the next read; nothing to report.
    pool.on('error', () => {});
  }
  return pool;
}

/**
 * The PostgreSQL reader thread's task handler: each read is one autocommit statement on a pooled
 * read-only connection, so it sees every write acknowledged before it was issued. Rows are parsed
 * here, not on the caller's thread. Never throws; failures come back as data.
 */
export async function handleRead(task: ReaderTask): Promise<ReaderReply> {
  if (task.params !== undefined && !Array.isArray(task.params)) {
    return { kind: 'failed', error: { name: 'InvalidParamsError', code: 'ERR_INVALID_PARAMS', message: 'PostgreSQL takes positional parameters ($1, $2, …): pass an array' } };
  }
  try {
    const config = extended(task.sql, task.params);
    if (task.rowMode === 'array') (config as { rowMode?: string }).rowMode = 'array';
    const res = await readPool().query(config);
    if (task.kind === 'all') return { kind: 'rows', rows: res.rows };
    return { kind: 'row', row: res.rows[0] };
  } catch (err) {
    if (isServerError(err) && err.code === '25006') {
      return { kind: 'failed', error: { name: 'InvalidSqlError', code: 'ERR_INVALID_SQL', message: `reads take a statement that changes nothing; use run() for ${JSON.stringify(task.sql.slice(0, 60))} (${err.message})` } };
    }
    const message = (err as Error | null)?.message ?? '';
    if (/read timeout|timeout exceeded when trying to connect|connection timeout|timeout expired/i.test(message)) {
      return {
        kind: 'failed',
        error: { name: 'ServerTimeoutError', code: 'ERR_SERVER_TIMEOUT', message: `PostgreSQL did not answer this read within ${serverBoundMs(config.busyDeadlineMs) + SILENCE_MARGIN_MS} ms (busyDeadlineMs, at least 1 s, + ${SILENCE_MARGIN_MS} ms) (${message}); the connection was dropped` },
      };
    }
    if (isConnectionError(err)) {
      return { kind: 'failed', error: { name: 'ServerUnavailableError', code: 'ERR_SERVER_UNAVAILABLE', message: `PostgreSQL did not answer this read (${message})` } };
    }
    return { kind: 'failed', error: pgErrorData(err) };
  }
}

