import { InvalidParamsError, describeValue } from './errors.js';

/**
 * Checks statement parameters on the caller's thread, so a value SQLite cannot bind fails the one
 * call instead of reaching the writer. Returns an estimate of their size in bytes, for the batch
 * byte budget.
 */
export function checkParams(params: unknown, where = 'params'): number {
  if (params === undefined) return 0;
  if (Array.isArray(params)) {
    let bytes = 0;
    for (let i = 0; i < params.length; i++) bytes += bindValueBytes(params[i], `${where}[${i}]`);
    return bytes;
  }
  if (typeof params === 'object' && params !== null) {
    const proto = Object.getPrototypeOf(params) as unknown;
    if (proto === Object.prototype || proto === null) {
      let bytes = 0;
      for (const key in params) bytes += key.length + bindValueBytes((params as Record<string, unknown>)[key], `${where}.${key}`);
      return bytes;
    }
  }
  throw new InvalidParamsError(`Expected \`${where}\` to be an array or a plain object of values, got ${describeValue(params)}`);
}

function bindValueBytes(value: unknown, where: string): number {
  switch (typeof value) {
    case 'string':
      return value.length;
    case 'number':
    case 'bigint':
      return 8;
    case 'object':
      if (value === null) return 1;
      if (value instanceof Uint8Array) return value.byteLength;
      break;
    case 'boolean':
      throw new InvalidParamsError(`\`${where}\` is a boolean, which SQLite cannot bind; use 1 or 0, got ${describeValue(value)}`);
    default:
      break;
  }
  throw new InvalidParamsError(
    `\`${where}\` cannot be bound: expected null, a number, a bigint, a string or a Buffer/Uint8Array, got ${describeValue(value)}`,
  );
}
