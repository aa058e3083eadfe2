import type { BatchDone, BatchTask, BindParams, OpMessage } from '../protocol.js';

/**
 * Lays several batches (from this process and from followers) out as one, in order, so they commit
 * in one transaction. Each batch's ops stay together and in their order; distinct SQL texts are
 * shared across them.
 */
export function mergeBatches(tasks: readonly BatchTask[]): BatchTask {
  if (tasks.length === 1) return tasks[0]!;
  const count = tasks.reduce((n, t) => n + t.count, 0);
  const bytes = tasks.reduce((n, t) => n + t.bytes, 0);
  const sql: string[] = [];
  const sqlIds = new Map<string, number>();
  const sqlIndex = new Int32Array(count);
  const params: Array<BindParams | undefined> = new Array<BindParams | undefined>(count);
  const complex: Array<readonly [number, OpMessage]> = [];
  let offset = 0;
  for (const task of tasks) {
    const remap = task.sql.map((text) => {
      let id = sqlIds.get(text);
      if (id === undefined) {
        id = sql.push(text) - 1;
        sqlIds.set(text, id);
      }
      return id;
    });
    for (let i = 0; i < task.count; i++) {
      const at = task.sqlIndex[i]!;
      sqlIndex[offset + i] = at < 0 ? -1 : remap[at]!;
      params[offset + i] = task.params[i];
    }
    for (const [i, op] of task.complex) complex.push([offset + i, op]);
    offset += task.count;
  }
  return { kind: 'batch', count, bytes, sql, sqlIndex, params, complex, safeIntegers: tasks[0]!.safeIntegers === true };
}

/** Cuts the reply to a merged batch back into one reply per batch, `counts` being their sizes in order. */
export function splitBatchDone(done: BatchDone, counts: readonly number[]): BatchDone[] {
  if (counts.length === 1) return [done];
  const replies: BatchDone[] = [];
  let offset = 0;
  for (const count of counts) {
    const end = offset + count;
    const inRange = <T>(pairs: ReadonlyArray<readonly [number, T]>): Array<readonly [number, T]> =>
      pairs.filter(([i]) => i >= offset && i < end).map(([i, v]) => [i - offset, v] as const);
    replies.push({
      ...done,
      // slice, not subarray: a view would carry the whole merged buffer across the thread or socket.
      changes: done.changes.slice(offset, end),
      rowids: done.rowids.slice(offset, end),
      values: inRange(done.values),
      errors: inRange(done.errors),
    });
    offset = end;
  }
  return replies;
}
