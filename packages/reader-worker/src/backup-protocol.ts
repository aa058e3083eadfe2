import type { ErrorData } from '@litescribe/writer-worker';

/** What a backup thread reads from `workerData`. */
export interface BackupConfig {
  /** The database to copy. */
  readonly source: string;
  /** Where the copy is written: a temporary name the caller renames when the copy is complete. */
  readonly target: string;
  /** Pages copied per step; the thread yields to its event loop between steps. */
  readonly stepPages: number;
  /** How long opening the source waits out another process recovering its WAL, in ms. */
  readonly busyTimeoutMs: number;
}

/**
 * The messages a backup thread posts, in order: `progress` after each step, then one `done` or
 * `failed`. The main thread never posts to it; it cancels a backup by terminating the thread.
 */
export type BackupMessage =
  | { readonly kind: 'progress'; readonly pagesCopied: number; readonly pagesTotal: number; readonly pageSize: number }
  | { readonly kind: 'done'; readonly pages: number; readonly pageSize: number }
  | { readonly kind: 'failed'; readonly error: ErrorData };
