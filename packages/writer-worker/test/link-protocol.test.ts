import { randomBytes } from 'node:crypto';
import { serialize } from 'node:v8';
import { expect, test } from 'vitest';
import { FrameDecoder, LINK_VERSION, LinkProtocolError, encodeFrame, replyProblem } from '@litescribe/writer-worker/link';
import type { LinkMessage } from '@litescribe/writer-worker/link';

const frame = (codec: number, body: Buffer): Buffer => {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(body.length + 1, 0);
  head[4] = codec;
  return Buffer.concat([head, body]);
};

test('frames split into single bytes, or run together, decode to the same messages', () => {
  const hello: LinkMessage = { kind: 'hello', version: LINK_VERSION, nonce: randomBytes(16), pid: 42 };
  const task: LinkMessage = {
    kind: 'task',
    id: 7,
    task: { kind: 'batch', count: 2, bytes: 10, sql: ['INSERT INTO t VALUES (?)'], sqlIndex: Int32Array.of(0, 0), params: [[1], ['two']], complex: [] },
  };
  const bytes = Buffer.concat([encodeFrame(hello), encodeFrame(task), encodeFrame({ kind: 'ping' })]);
  const whole = new FrameDecoder(1 << 20, true).push(bytes).map((f) => f.msg);
  const decoder = new FrameDecoder(1 << 20, true);
  const bytewise: LinkMessage[] = [];
  for (let i = 0; i < bytes.length; i++) bytewise.push(...decoder.push(bytes.subarray(i, i + 1)).map((f) => f.msg));
  expect(bytewise).toEqual(whole);
  expect(whole.map((m) => m.kind)).toEqual(['hello', 'task', 'ping']);
  expect(Buffer.from((whole[0] as { nonce: Uint8Array }).nonce).equals(Buffer.from((hello as { nonce: Uint8Array }).nonce))).toBe(true);
  expect(decoder.buffered).toBe(0);
});

test('a length over the limit is refused from its 4-byte prefix, before any of the body is kept', () => {
  const decoder = new FrameDecoder(1024);
  const head = Buffer.alloc(4);
  head.writeUInt32BE(1 << 30, 0);
  expect(() => decoder.push(head)).toThrow(LinkProtocolError);
  expect(() => new FrameDecoder(1024).push(Buffer.alloc(4))).toThrow(/0 bytes cannot be a message/);
});

test('before the proof only control frames are read: v8 and batch frames are refused unparsed', () => {
  const v8 = frame(0, serialize({ kind: 'hello', version: LINK_VERSION, nonce: randomBytes(16), pid: 1 }));
  expect(() => new FrameDecoder(1 << 20).push(v8)).toThrow(/frame codec 0 before the handshake/);
  expect(() => new FrameDecoder(1 << 20).push(frame(1, Buffer.from('[]')))).toThrow(/codec 1 before the handshake/);
});

test('control frames are checked field by field: wrong types, sizes and kinds are refused with a reason', () => {
  const control = (value: unknown): Buffer => frame(3, Buffer.from(JSON.stringify(value)));
  const refusedFor = (value: unknown): string => {
    try {
      new FrameDecoder(1 << 20).push(control(value));
      return 'accepted';
    } catch (err) {
      expect(err).toBeInstanceOf(LinkProtocolError);
      return (err as Error).message;
    }
  };
  expect(refusedFor(null)).toMatch(/must be an object/);
  expect(refusedFor({ kind: 'hello', nonce: 5 })).toMatch(/hello.version must be an integer/);
  expect(refusedFor({ kind: 'hello', version: 2, nonce: '00', pid: 1 })).toMatch(/hello.nonce must be 16 bytes in hex/);
  expect(refusedFor({ kind: 'hello', version: 2, nonce: '00'.repeat(16), pid: -1 })).toMatch(/hello.pid must be an integer/);
  expect(refusedFor({ kind: 'join', proof: '00'.repeat(32), procedures: 5, setup: [], synchronous: 'normal' })).toMatch(/join.procedures/);
  expect(refusedFor({ kind: 'join', proof: '00'.repeat(32), procedures: null, setup: [1], synchronous: 'normal' })).toMatch(/join.setup/);
  expect(refusedFor({ kind: 'task', id: 1, task: {} })).toMatch(/unknown control message "task"/);
  expect(() => new FrameDecoder(1 << 20).push(frame(3, Buffer.from('not json')))).toThrow(LinkProtocolError);
  expect(refusedFor({ kind: 'hello', version: 2, nonce: 'ab'.repeat(16), pid: 3, extra: 'dropped' })).toBe('accepted');
});

test("a leader's reply is checked before a promise settles by it: each error is { name, message, code? }, and so is its cause", () => {
  const task = { kind: 'batch', count: 1, bytes: 10, sql: ['INSERT INTO t VALUES (?)'], sqlIndex: Int32Array.of(0), params: [[1]], complex: [] } as const;
  const done = (error: unknown) => ({ kind: 'batch-done', committed: false, changes: new Float64Array(1), rowids: new Float64Array(1), values: [], errors: [[0, error]] });
  const sqlite = { name: 'SqliteError', message: 'database or disk is full', code: 'SQLITE_FULL' };
  const unknown = { name: 'WorkerExitedError', message: 'COMMIT failed', code: 'ERR_WORKER_EXITED', cause: sqlite };
  expect(replyProblem(done(unknown), task)).toBeNull();
  expect(replyProblem({ kind: 'failed', error: unknown }, task)).toBeNull();
  for (const bad of [{ message: 'no name' }, { ...sqlite, code: 5 }, { ...unknown, cause: { message: 'no name' } }, { ...unknown, cause: { ...sqlite, code: 5 } }, { ...unknown, cause: unknown }]) {
    expect(replyProblem(done(bad), task), JSON.stringify(bad)).toMatch(/is not \{ name, message, code\? \}/);
    expect(replyProblem({ kind: 'failed', error: bad }, task), JSON.stringify(bad)).toMatch(/failed without an error/);
  }
});
