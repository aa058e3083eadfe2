import type { BindParams } from './protocol.js';

/**
 * The arguments better-sqlite3's `run`/`all`/`get` take for these parameters: positional values
 * spread, a named object as the one argument, nothing for none.
 */
export function bindArgs(params: BindParams | undefined): unknown[] {
  if (params === undefined) return [];
  return Array.isArray(params) ? (params as unknown[]) : [params];
}
