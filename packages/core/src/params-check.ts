import { InvalidParamsError, describeValue } from './errors.js';

/** Where a value sits, for an error message: a string, or a function that builds it only if needed. */
export type ParamsLabel = string | (() => string);

/** The label's text. */
export const labelOf = (where: ParamsLabel): string => (typeof where === 'string' ? where : where());

/**
 * Checks statement parameters on the caller's thread, so a value SQLite cannot bind fails the one
 * call instead of reaching the writer. Returns an estimate of their size in bytes, for the batch
 * byte budget. Labels are built only for an error: building `rows[12345][2]` for every value cost
 * `runMany` 14–34 ms of the caller's thread per 50,000 rows of 4 values.
 */
export function checkParams(params: unknown, where: ParamsLabel = 'params'): number {
  if (params === undefined) return 0;
  if (Array.isArray(params)) {
    let bytes = 0;
    for (let i = 0; i < params.length; i++) {
      const size = bindValueBytes(params[i]);
      if (size < 0) throw unbindable(params[i], `${labelOf(where)}[${i}]`);
      bytes += size;
    }
    return bytes;
  }
  if (typeof params === 'object' && params !== null) {
    const proto = Object.getPrototypeOf(params) as unknown;
    if (proto === Object.prototype || proto === null) {
      let bytes = 0;
      for (const key in params) {
        const value = (params as Record<string, unknown>)[key];
        const size = bindValueBytes(value);
        if (size < 0) throw unbindable(value, `${labelOf(where)}.${key}`);
        bytes += key.length + size;
      }
      return bytes;
    }
  }
  throw new InvalidParamsError(`Expected \`${labelOf(where)}\` to be an array or a plain object of values, got ${describeValue(params)}`);
}

/** A bindable value's estimated size in bytes, or -1 when SQLite cannot bind it. */
function bindValueBytes(value: unknown): number {
  switch (typeof value) {
    case 'string':
      return value.length;
    case 'number':
    case 'bigint':
      return 8;
    case 'object':
      if (value === null) return 1;
      if (value instanceof Uint8Array) return value.byteLength;
      return -1;
    default:
      return -1;
  }
}

function unbindable(value: unknown, where: string): InvalidParamsError {
  if (typeof value === 'boolean') {
    return new InvalidParamsError(`\`${where}\` is a boolean, which SQLite cannot bind; use 1 or 0, got ${describeValue(value)}`);
  }
  return new InvalidParamsError(
    `\`${where}\` cannot be bound: expected null, a number, a bigint, a string or a Buffer/Uint8Array, got ${describeValue(value)}`,
  );
}
