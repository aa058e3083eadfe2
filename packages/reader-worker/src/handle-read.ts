import { workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { StatementCache, WriterErrorCode, bindArgs, toErrorData } from '@litescribe/writer-worker';
import type { ReaderConfig, ReaderReply, ReaderTask } from './protocol.js';

const config = workerData as ReaderConfig;
let statements: StatementCache | null = null;

function connect(): StatementCache {
  if (statements === null) {
    // SQLITE_OPEN_READONLY: even a statement that slipped past every check cannot write. A reader
    // in WAL mode waits on a lock only while another process recovers the WAL, and then only in
    // this thread, so SQLite's own busy handler is fine here.
    const db = new Database(config.path, { readonly: true, fileMustExist: true, timeout: config.busyTimeoutMs });
    db.defaultSafeIntegers(config.safeIntegers === true);
    statements = new StatementCache(db, config.statementCacheSize);
  }
  return statements;
}

/**
 * A reader thread's task handler. Each read is one statement in autocommit mode: its snapshot
 * lives only while the statement runs, so no reader ever pins the WAL between calls (long-lived
 * snapshots are what starve checkpoints). Never throws; failures come back as data.
 */
export function handleRead(task: ReaderTask): ReaderReply {
  try {
    const stmt = connect().get(task.sql);
    if (!stmt.readonly || !stmt.reader) {
      return {
        kind: 'failed',
        error: {
          name: 'InvalidSqlError',
          code: WriterErrorCode.invalidSql,
          message: `reads take a statement that returns rows and changes nothing; use run() for ${JSON.stringify(task.sql.slice(0, 60))}`,
        },
      };
    }
    const args = bindArgs(task.params);
    // The statement is cached and shared by every read of this text: raw mode only for this read.
    const raw = task.rowMode === 'array';
    if (raw) stmt.raw(true);
    try {
      switch (task.kind) {
        case 'all':
          return { kind: 'rows', rows: stmt.all(...args) };
        case 'get':
          return { kind: 'row', row: stmt.get(...args) };
        default:
          throw new Error(`reader got an unknown task kind: ${JSON.stringify((task as { kind: unknown }).kind)}`);
      }
    } finally {
      if (raw) stmt.raw(false);
    }
  } catch (err) {
    return { kind: 'failed', error: toErrorData(err) };
  }
}
