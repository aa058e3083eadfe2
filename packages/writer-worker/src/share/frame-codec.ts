import { deserialize, serialize } from 'node:v8';
import { checkControl } from './link-checks.js';
import { LinkProtocolError } from './link-message.js';
import type { LinkMessage } from './link-message.js';
import type { BatchDone, BatchTask, BindParams, OpMessage } from '../protocol.js';

/**
 * Frames on a leader socket: `u32 length | u8 codec | body`.
 *
 * Codec 0 is `v8.serialize`, which carries anything structured clone does. It costs 5–8 µs per
 * message each way here (Node's serializer calls back into JS for every typed array), and a
 * follower writing back to back spent a third of its CPU in it (`--cpu-prof`). So the two messages
 * on the hot path — a batch going to the leader and its reply — take codec 1 whenever every value
 * in them survives JSON exactly: `JSON` of the message with its typed arrays as plain arrays, then
 * the `call` ops' argument bytes appended raw. Anything JSON would change (a BLOB parameter, a
 * bigint, `undefined` or -0 inside a procedure's result, a Map…) sends that frame with codec 0.
 */
const V8 = 0;
const JSON_BATCH = 1;
const JSON_REPLY = 2;
/**
 * Codec 3: every message that is not a task or a reply (the handshake, bye, redirect, ping), as
 * JSON with byte fields in hex. The only codec a peer that has not proven itself may send.
 */
const JSON_CONTROL = 3;

export function encodeFrame(msg: LinkMessage): Buffer {
  let body: Buffer | null = null;
  let codec = V8;
  if (msg.kind === 'task' && msg.task.kind === 'batch') {
    body = encodeBatch(msg.id, msg.task);
    codec = JSON_BATCH;
  } else if (msg.kind === 'reply' && msg.reply.kind === 'batch-done') {
    body = encodeReply(msg.id, msg.reply);
    codec = JSON_REPLY;
  }
  if (body === null && msg.kind !== 'task' && msg.kind !== 'reply') {
    body = Buffer.from(JSON.stringify(msg, hexBytes));
    codec = JSON_CONTROL;
  }
  if (body === null) {
    body = serialize(msg);
    codec = V8;
  }
  const frame = Buffer.allocUnsafe(5 + body.length);
  frame.writeUInt32BE(body.length + 1, 0);
  frame[4] = codec;
  body.copy(frame, 5);
  return frame;
}

/** Byte fields of control messages travel as hex strings (the holder's own value: a Buffer's toJSON runs first). */
function hexBytes(this: Record<string, unknown>, key: string, value: unknown): unknown {
  const raw = this[key];
  return raw instanceof Uint8Array ? Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('hex') : value;
}

/**
 * Decodes one frame's payload (codec byte and body). `allowV8`: the peer has proven it holds the
 * token; before that only control frames are taken. Throws {@link LinkProtocolError} for anything
 * that is not a message of this protocol; task and reply contents are checked by their receivers.
 */
export function decodeFrame(payload: Buffer, allowV8: boolean): LinkMessage {
  const codec = payload[0];
  const body = payload.subarray(1);
  if (codec !== JSON_CONTROL && !allowV8) throw new LinkProtocolError(`frame codec ${codec} before the handshake`);
  try {
    switch (codec) {
      case JSON_CONTROL:
        return checkControl(JSON.parse(body.toString('utf8')) as unknown);
      case V8:
        return deserialize(body) as LinkMessage;
      case JSON_BATCH:
        return decodeBatch(body);
      case JSON_REPLY:
        return decodeReply(body);
      default:
        throw new LinkProtocolError(`unknown frame codec ${codec}`);
    }
  } catch (err) {
    if (err instanceof LinkProtocolError) throw err;
    throw new LinkProtocolError(`a frame of codec ${codec} could not be decoded: ${(err as Error).message}`);
  }
}

/** Strings, finite numbers other than -0, booleans, null, and plain arrays and objects of them. */
function jsonExact(value: unknown): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value) && !Object.is(value, -0);
    case 'object': {
      if (value === null) return true;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) if (!(i in value) || !jsonExact(value[i])) return false;
        return true;
      }
      const proto = Object.getPrototypeOf(value) as unknown;
      if (proto !== Object.prototype && proto !== null) return false;
      for (const v of Object.values(value)) if (!jsonExact(v)) return false;
      return true;
    }
    default:
      return false;
  }
}

function paramsExact(params: BindParams | undefined): boolean {
  return params === undefined || jsonExact(params);
}

/** Length-prefixed JSON, then raw byte blocks. */
function withBlobs(json: string, blobs: readonly Uint8Array[]): Buffer {
  const text = Buffer.from(json);
  let size = 4 + text.length;
  for (const b of blobs) size += 4 + b.byteLength;
  const out = Buffer.allocUnsafe(size);
  out.writeUInt32BE(text.length, 0);
  text.copy(out, 4);
  let at = 4 + text.length;
  for (const b of blobs) {
    out.writeUInt32BE(b.byteLength, at);
    out.set(b, at + 4);
    at += 4 + b.byteLength;
  }
  return out;
}

function readBlobs(body: Buffer): { json: unknown; blobs: Uint8Array[] } {
  const length = body.readUInt32BE(0);
  const json = JSON.parse(body.toString('utf8', 4, 4 + length)) as unknown;
  const blobs: Uint8Array[] = [];
  for (let at = 4 + length; at < body.length; ) {
    const n = body.readUInt32BE(at);
    // A copy, so a procedure's arguments do not keep the whole socket chunk alive.
    blobs.push(new Uint8Array(body.subarray(at + 4, at + 4 + n)));
    at += 4 + n;
  }
  return { json, blobs };
}

type ComplexJson = [number, 'call', string] | [number, 'op', OpMessage];

function encodeBatch(id: number, task: BatchTask): Buffer | null {
  // `undefined` params (a statement without any) travel as null: no BindParams is ever null.
  for (const p of task.params) if (!paramsExact(p)) return null;
  const blobs: Uint8Array[] = [];
  const complex: ComplexJson[] = [];
  for (const [i, op] of task.complex) {
    if (op.kind === 'many') {
      return null; // its rows are already v8 slices: the frame goes by the v8 codec
    } else if (op.kind === 'call') {
      blobs.push(op.args);
      complex.push([i, 'call', op.name]);
    } else {
      if (op.kind === 'run' ? !paramsExact(op.params) : !op.statements.every((s) => paramsExact(s.params))) return null;
      complex.push([i, 'op', op]);
    }
  }
  const params = task.params.map((p) => p ?? null);
  return withBlobs(JSON.stringify([id, task.count, task.bytes, task.sql, Array.from(task.sqlIndex), params, complex, task.safeIntegers === true]), blobs);
}

function decodeBatch(body: Buffer): LinkMessage {
  const { json, blobs } = readBlobs(body);
  const [id, count, bytes, sql, sqlIndex, params, complexJson, safeIntegers] = json as [number, number, number, string[], number[], Array<BindParams | null>, ComplexJson[], boolean];
  let blob = 0;
  const complex = complexJson.map(([i, kind, op]): readonly [number, OpMessage] => {
    if (kind === 'call') return [i, { kind: 'call', name: op, args: blobs[blob++]! }];
    return [i, restoreOp(op)];
  });
  return {
    kind: 'task',
    id,
    task: { kind: 'batch', count, bytes, sql, sqlIndex: Int32Array.from(sqlIndex), params: params.map((p) => p ?? undefined), complex, safeIntegers },
  };
}

/** JSON drops `params: undefined` from an op object; put the key back as it was. */
function restoreOp(op: OpMessage): OpMessage {
  if (op.kind === 'run') return { kind: 'run', sql: op.sql, params: op.params ?? undefined };
  if (op.kind === 'batch') return { kind: 'batch', statements: op.statements.map((s) => ({ sql: s.sql, params: s.params ?? undefined })) };
  return op;
}

function encodeReply(id: number, done: BatchDone): Buffer | null {
  // A procedure that returns nothing is common: its value travels as a one-element pair.
  const values: Array<[number] | [number, unknown]> = [];
  for (const [i, v] of done.values) {
    if (v === undefined) values.push([i]);
    else if (jsonExact(v)) values.push([i, v]);
    else return null;
  }
  for (const [, e] of done.errors) if (!jsonExact(e)) return null;
  for (const x of [done.changes, done.rowids]) for (const n of x) if (!Number.isFinite(n)) return null;
  return withBlobs(
    JSON.stringify([id, done.committed, Array.from(done.changes), Array.from(done.rowids), values, done.errors, done.busyRetries, done.lockWaitMs, done.walBytes, done.transactionOps]),
    [],
  );
}

function decodeReply(body: Buffer): LinkMessage {
  const { json } = readBlobs(body);
  const [id, committed, changes, rowids, values, errors, busyRetries, lockWaitMs, walBytes, transactionOps] = json as [
    number,
    boolean,
    number[],
    number[],
    Array<[number] | [number, unknown]>,
    BatchDone['errors'],
    number,
    number,
    number,
    number,
  ];
  return {
    kind: 'reply',
    id,
    reply: {
      kind: 'batch-done',
      committed,
      changes: Float64Array.from(changes),
      rowids: Float64Array.from(rowids),
      values: values.map((pair) => [pair[0], pair.length === 1 ? undefined : pair[1]] as const),
      errors,
      busyRetries,
      lockWaitMs,
      walBytes,
      transactionOps,
    },
  };
}
