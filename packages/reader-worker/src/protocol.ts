import type { BindParams, ErrorData } from '@litescribe/writer-worker';

/**
 * The protocol between the main thread and a reader thread: one task per read, one reply each.
 * `all` returns every row, `get` the first (or undefined).
 */
export type ReaderTask = {
  readonly kind: 'all' | 'get';
  readonly sql: string;
  readonly params: BindParams | undefined;
  /** `'array'`: each row as an array of its column values, in column order (query builders want these). */
  readonly rowMode?: 'object' | 'array';
};

export type ReaderReply =
  | { readonly kind: 'rows'; readonly rows: unknown[] }
  | { readonly kind: 'row'; readonly row: unknown }
  | { readonly kind: 'failed'; readonly error: ErrorData };

/** What every reader thread reads from `workerData`. */
export interface ReaderConfig {
  readonly path: string;
  readonly statementCacheSize: number;
  /** How long a read waits out a busy database (WAL recovery by another process), in ms. */
  readonly busyTimeoutMs: number;
  /** Integers come back as bigint (better-sqlite3's `defaultSafeIntegers`). */
  readonly safeIntegers: boolean;
}
