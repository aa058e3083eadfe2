import type { ErrorData } from './protocol.js';
import { WriterErrorCode } from './protocol.js';

/**
 * Turns anything thrown in the writer into plain {@link ErrorData} that survives postMessage.
 *
 * better-sqlite3 throws `SqliteError` with SQLite's extended code (`SQLITE_CONSTRAINT_UNIQUE`), which
 * is kept. Its own argument checks throw `TypeError`/`RangeError` (wrong parameter count, unbindable
 * value); those become `ERR_INVALID_PARAMS` so the caller gets the same typed error the main thread
 * would have raised.
 */
export function toErrorData(err: unknown, extra?: Partial<ErrorData>): ErrorData {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string') {
      return { name: err.name, message: err.message, code, ...extra };
    }
    if (err instanceof RangeError || err instanceof TypeError) {
      const invalidSql = /more than one statement|contains no statements/i.test(err.message);
      return {
        name: err.name,
        message: err.message,
        code: invalidSql ? WriterErrorCode.invalidSql : WriterErrorCode.invalidParams,
        ...extra,
      };
    }
    return { name: err.name, message: err.message, ...extra };
  }
  return { name: 'Error', message: String(err), ...extra };
}

/** SQLITE_BUSY and its extended codes (BUSY_RECOVERY, BUSY_SNAPSHOT, BUSY_TIMEOUT). */
export function isBusyCode(code: string | undefined): boolean {
  return code === 'SQLITE_BUSY' || (code !== undefined && code.startsWith('SQLITE_BUSY_'));
}

/**
 * Errors after which the transaction cannot be trusted to hold the batch's other operations.
 * SQLite may roll back the whole transaction on these ("Response To Errors Within A Transaction",
 * https://www.sqlite.org/lang_transaction.html), so the batch is rolled back and no op is reported
 * committed.
 */
const FATAL_PRIMARY_CODES = new Set([
  'SQLITE_FULL',
  'SQLITE_IOERR',
  'SQLITE_NOMEM',
  'SQLITE_CORRUPT',
  'SQLITE_NOTADB',
  'SQLITE_READONLY',
  'SQLITE_CANTOPEN',
  'SQLITE_PROTOCOL',
  'SQLITE_INTERRUPT',
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
]);

/** True when an error with this code ends the whole batch rather than one operation. */
export function isBatchFatalCode(code: string | undefined): boolean {
  if (code === undefined || !code.startsWith('SQLITE_')) return false;
  const second = code.indexOf('_', 7);
  return FATAL_PRIMARY_CODES.has(second === -1 ? code : code.slice(0, second));
}
