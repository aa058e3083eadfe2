/**
 * The parameter rules every write meets, on the caller's thread (core's params-check) and in a
 * leader checking a follower's batch alike. Loads no SQLite.
 */

/** A bindable value's estimated size in bytes, or -1 when SQLite cannot bind it. */
export function bindValueBytes(value: unknown): number {
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

/** Named parameters must be a plain object (its own prototype Object's, or none). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}
