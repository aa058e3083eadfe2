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

const CLONEABLE_BUILTINS: ReadonlyArray<abstract new (...args: never[]) => unknown> = [
  Date,
  RegExp,
  ArrayBuffer,
  DataView,
  Error,
  Boolean,
  Number,
  String,
];

/**
 * Checks that procedure arguments can cross to the writer thread (structured clone), returning a
 * size estimate. A value that cannot be cloned would fail the whole batch's message, so it must be
 * caught here, per call. Plain data is walked; anything unusual gets an exact `structuredClone` test.
 */
export function checkCloneable(value: unknown, where = 'args'): number {
  return walk(value, where, new Set());
}

function walk(value: unknown, where: string, seen: Set<object>): number {
  switch (typeof value) {
    case 'string':
      return value.length;
    case 'number':
    case 'bigint':
    case 'boolean':
    case 'undefined':
      return 8;
    case 'function':
    case 'symbol':
      throw new InvalidParamsError(`\`${where}\` cannot be sent to the writer thread: got ${describeValue(value)}`);
    default:
      break;
  }
  if (value === null) return 1;
  const obj = value as object;
  if (seen.has(obj)) return 0;
  seen.add(obj);
  if (Array.isArray(obj)) {
    let bytes = 0;
    for (let i = 0; i < obj.length; i++) bytes += walk(obj[i], `${where}[${i}]`, seen);
    return bytes;
  }
  if (ArrayBuffer.isView(obj)) return obj.byteLength;
  const proto = Object.getPrototypeOf(obj) as unknown;
  if (proto === Object.prototype || proto === null) {
    let bytes = 0;
    for (const key of Object.keys(obj)) bytes += key.length + walk((obj as Record<string, unknown>)[key], `${where}.${key}`, seen);
    return bytes;
  }
  if (obj instanceof Map) {
    let bytes = 0;
    for (const [k, v] of obj) bytes += walk(k, `${where}<key>`, seen) + walk(v, `${where}.get(${String(k)})`, seen);
    return bytes;
  }
  if (obj instanceof Set) {
    let bytes = 0;
    for (const v of obj) bytes += walk(v, `${where}<item>`, seen);
    return bytes;
  }
  if (CLONEABLE_BUILTINS.some((C) => obj instanceof C)) return 16;
  try {
    structuredClone(obj);
  } catch (err) {
    throw new InvalidParamsError(`\`${where}\` cannot be sent to the writer thread (${(err as Error).message}): got ${describeValue(obj)}`);
  }
  return 64;
}
