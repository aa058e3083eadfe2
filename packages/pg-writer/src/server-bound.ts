/**
 * How long the PostgreSQL threads wait on the server. Shared by the writer and the reader threads;
 * loads nothing.
 */

/**
 * How much longer than its bound a thread waits on a silent server. The server's own
 * `statement_timeout` (set to the bound) ends a statement that is merely slow with an error; this
 * margin lets that error arrive, so only a server that says nothing at all is dropped.
 */
export const SILENCE_MARGIN_MS = 500;

/** The bound on a statement's run time and on connecting: `busyDeadlineMs`, but never under a second. */
export function serverBoundMs(busyDeadlineMs: number): number {
  return Math.max(1_000, busyDeadlineMs);
}
