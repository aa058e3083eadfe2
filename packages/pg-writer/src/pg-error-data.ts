import pg from 'pg';
import type { ErrorData } from '@litescribe/writer-worker';

/**
 * SQLSTATEs after which the whole transaction is retried: serialization failure, deadlock, and
 * lock_not_available (the writer's `lock_timeout` is `busyDeadlineMs`, so a row lock held by
 * another session ends the wait at the deadline instead of holding the writer forever).
 */
const RETRY_CODES = new Set(['40001', '40P01', '55P03']);

/** An error PostgreSQL sent for a statement (as opposed to a socket or client-side failure). */
export function isServerError(err: unknown): err is pg.DatabaseError {
  return err instanceof pg.DatabaseError;
}

/** The transaction was rolled back by the server and can simply run again. */
export function isRetryable(err: unknown): boolean {
  return isServerError(err) && RETRY_CODES.has(err.code ?? '');
}

/**
 * The connection is gone, or going: anything not sent by the server (socket errors, "Connection
 * terminated unexpectedly", a client that is not queryable), and any FATAL or PANIC the server
 * sent (57P01 when it shuts down, for one): it closes the session after those. A plain ERROR,
 * even of class 08 (08P01: a Bind with the wrong number of parameters), leaves the session open.
 */
export function isConnectionError(err: unknown): boolean {
  if (!isServerError(err)) return true;
  return err.severity === 'FATAL' || err.severity === 'PANIC';
}

/** A PostgreSQL error as plain data: `code` is the SQLSTATE, e.g. `23505`. */
export function pgErrorData(err: unknown, extra?: Partial<ErrorData>): ErrorData {
  if (isServerError(err) && err.code === '42601' && /multiple commands/.test(err.message)) {
    return { name: 'InvalidSqlError', code: 'ERR_INVALID_SQL', message: `an operation takes exactly one statement (use batch() for several): ${err.message}`, ...extra };
  }
  if (isServerError(err)) {
    return {
      name: 'PostgresError',
      message: err.message,
      ...(err.code === undefined ? {} : { code: err.code }),
      ...(err.detail === undefined ? {} : { detail: err.detail }),
      ...extra,
    };
  }
  if (err instanceof Error) return { name: err.name, message: err.message, ...extra };
  return { name: 'Error', message: String(err), ...extra };
}
