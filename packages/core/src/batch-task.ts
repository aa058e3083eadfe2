import type { BatchTask, BindParams, OpMessage } from '@litescribe/writer-worker';

/** Lays a batch out the way the writer takes it: plain `run` ops as columns, distinct SQL once. */
export function toBatchTask(ops: readonly OpMessage[], bytes: number, safeIntegers: boolean): BatchTask {
  const sql: string[] = [];
  const sqlIds = new Map<string, number>();
  const sqlIndex = new Int32Array(ops.length);
  const params: Array<BindParams | undefined> = new Array<BindParams | undefined>(ops.length);
  const complex: Array<readonly [number, OpMessage]> = [];
  for (let i = 0; i < ops.length; i++) {
    const msg = ops[i]!;
    if (msg.kind === 'run') {
      let id = sqlIds.get(msg.sql);
      if (id === undefined) {
        id = sql.push(msg.sql) - 1;
        sqlIds.set(msg.sql, id);
      }
      sqlIndex[i] = id;
      params[i] = msg.params;
    } else {
      sqlIndex[i] = -1;
      complex.push([i, msg]);
    }
  }
  return safeIntegers ? { kind: 'batch', count: ops.length, bytes, sql, sqlIndex, params, complex, safeIntegers } : { kind: 'batch', count: ops.length, bytes, sql, sqlIndex, params, complex };
}
