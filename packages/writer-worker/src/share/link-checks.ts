/**
 * Checks of what arrives on a leader socket. A peer is another process — possibly another user's,
 * possibly another litescribe version's — so its messages are untrusted input: every field is
 * checked for type and range before anything uses it, and a message that fails closes (or, for a
 * follower's batch, is refused to) that one peer only. Loads no SQLite.
 */
import type { LinkMessage } from './link-message.js';
import { LinkProtocolError } from './link-message.js';
import type { BatchTask, BindParams, ErrorData, WriterTask } from '../protocol.js';
import { bindValueBytes, isPlainObject } from '../param-shape.js';
import { statementProblem } from '../sql-shape.js';

const SYNCHRONOUS = new Set(['off', 'normal', 'full', 'extra']);
const CHECKPOINT_MODES = new Set(['auto', 'passive', 'full', 'restart', 'truncate']);
const HEX = /^(?:[0-9a-f]{2})*$/;
/** Most operations one follower batch may carry, whatever its own `maxBatchOps` says. */
export const MAX_FOLLOWER_BATCH_OPS = 1 << 20;

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * An error as the writer sends it: `{ name, message, code? }`, and at most one level below it a
 * `cause` of the same shape (a COMMIT whose outcome is unknown carries SQLite's error). What
 * `errorFromData` reads of a peer's error, checked before it does.
 */
function isErrorData(v: unknown, causes = 1): v is ErrorData {
  return (
    isObj(v) &&
    typeof v['name'] === 'string' &&
    typeof v['message'] === 'string' &&
    (v['code'] === undefined || typeof v['code'] === 'string') &&
    (v['cause'] === undefined || (causes > 0 && isErrorData(v['cause'], causes - 1)))
  );
}

function fail(what: string): never {
  throw new LinkProtocolError(what);
}

function bytesField(o: Obj, key: string, length: number): Uint8Array {
  const v = o[key];
  if (typeof v !== 'string' || v.length !== length * 2 || !HEX.test(v)) fail(`${String(o['kind'])}.${key} must be ${length} bytes in hex`);
  return Buffer.from(v, 'hex');
}

function intField(o: Obj, key: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) fail(`${String(o['kind'])}.${key} must be an integer in [${min}, ${max}]`);
  return v;
}

function stringField(o: Obj, key: string, maxLength: number): string {
  const v = o[key];
  if (typeof v !== 'string' || v.length > maxLength) fail(`${String(o['kind'])}.${key} must be a string of at most ${maxLength} characters`);
  return v;
}

function stringArray(o: Obj, key: string, maxItems: number): string[] {
  const v = o[key];
  if (!Array.isArray(v) || v.length > maxItems || !v.every((s) => typeof s === 'string')) fail(`${String(o['kind'])}.${key} must be an array of strings`);
  return v as string[];
}

/**
 * A control message (JSON codec) as parsed: checked field by field and rebuilt with only the known
 * fields, byte fields decoded from hex. Throws {@link LinkProtocolError}.
 */
export function checkControl(value: unknown): LinkMessage {
  if (!isObj(value)) fail('a control frame must be an object');
  switch (value['kind']) {
    case 'hello':
      // The version is checked first and alone: a follower of another version is refused by name.
      return { kind: 'hello', version: intField(value, 'version', 0), nonce: bytesField(value, 'nonce', 16), pid: intField(value, 'pid', 0) };
    case 'challenge':
      return { kind: 'challenge', version: intField(value, 'version', 0), nonce: bytesField(value, 'nonce', 16), proof: bytesField(value, 'proof', 32) };
    case 'join': {
      const procedures = value['procedures'];
      if (procedures !== null && (typeof procedures !== 'string' || !procedures.startsWith('file:') || procedures.length > 4096)) fail('join.procedures must be a file: URL or null');
      const synchronous = value['synchronous'];
      if (typeof synchronous !== 'string' || !SYNCHRONOUS.has(synchronous)) fail('join.synchronous must be off, normal, full or extra');
      return {
        kind: 'join',
        proof: bytesField(value, 'proof', 32),
        procedures: procedures as string | null,
        setup: stringArray(value, 'setup', 10_000),
        synchronous: synchronous as 'off' | 'normal' | 'full' | 'extra',
      };
    }
    case 'welcome': {
      const start = value['leaderStart'];
      if (start !== null && (typeof start !== 'string' || !/^\d{1,20}$/.test(start))) fail('welcome.leaderStart must be digits or null');
      return {
        kind: 'welcome',
        sqliteVersion: stringField(value, 'sqliteVersion', 64),
        procedures: stringArray(value, 'procedures', 100_000),
        walBytes: intField(value, 'walBytes', 0),
        leaderPid: intField(value, 'leaderPid', 0),
        leaderStart: start as string | null,
      };
    }
    case 'refused': {
      const error = value['error'];
      if (!isErrorData(error)) fail('refused.error must be { name, message, code? }');
      const version = value['version'];
      return {
        kind: 'refused',
        error: { name: error.name, message: error.message.slice(0, 4096), ...(error.code === undefined ? {} : { code: error.code }) },
        ...(typeof version === 'number' && Number.isSafeInteger(version) ? { version } : {}),
      };
    }
    case 'redirect':
      return { kind: 'redirect', id: intField(value, 'id', 1) };
    case 'ping':
    case 'pong':
    case 'bye':
      return { kind: value['kind'] };
    default:
      return fail(`unknown control message ${JSON.stringify(String(value['kind']).slice(0, 40))}`);
  }
}

/** Parameters as `checkParams` on the caller's thread takes them: none, an array or a plain object of bindable values. */
function paramsOk(params: unknown): params is BindParams | undefined {
  if (params === undefined) return true;
  if (Array.isArray(params)) {
    for (let i = 0; i < params.length; i++) if (bindValueBytes(params[i]) < 0) return false;
    return true;
  }
  if (!isPlainObject(params)) return false;
  for (const key in params) if (bindValueBytes(params[key]) < 0) return false;
  return true;
}

function sqlOk(sql: unknown): string | null {
  if (typeof sql !== 'string' || sql.length === 0) return 'is not a non-empty string';
  return statementProblem(sql);
}

function opProblem(op: unknown): string | null {
  if (!isObj(op)) return 'is not an operation';
  switch (op['kind']) {
    case 'run': {
      const bad = sqlOk(op['sql']);
      if (bad !== null) return `sql ${bad}`;
      return paramsOk(op['params']) ? null : 'has parameters SQLite cannot bind';
    }
    case 'batch': {
      const statements = op['statements'];
      if (!Array.isArray(statements) || statements.length === 0) return 'has no statements';
      for (const [k, s] of statements.entries()) {
        if (!isObj(s)) return `statement ${k} is not { sql, params }`;
        const bad = sqlOk(s['sql']);
        if (bad !== null) return `statement ${k}: sql ${bad}`;
        if (!paramsOk(s['params'])) return `statement ${k} has parameters SQLite cannot bind`;
      }
      return null;
    }
    case 'call':
      if (typeof op['name'] !== 'string' || op['name'].length === 0) return 'names no procedure';
      return op['args'] instanceof Uint8Array ? null : 'has no argument bytes';
    case 'many': {
      const bad = sqlOk(op['sql']);
      if (bad !== null) return `sql ${bad}`;
      const rows = op['rows'];
      return Array.isArray(rows) && rows.every((r) => r instanceof Uint8Array) ? null : 'has rows that are not serialized slices';
    }
    default:
      return `is of unknown kind ${JSON.stringify(String(op['kind']).slice(0, 40))}`;
  }
}

/**
 * Checks a follower's batch before it is merged with anyone else's: every index in range, every
 * array as long as `count` says, every SQL text one allowed statement, every parameter bindable —
 * the rules the caller's thread applies to its own calls. A batch that fails cannot shorten, shift
 * or fail other processes' operations, because it never reaches the merge. Returns what is wrong,
 * or null.
 */
export function batchProblem(task: BatchTask): string | null {
  const { count, sql, sqlIndex, params, complex } = task;
  if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 1 || count > MAX_FOLLOWER_BATCH_OPS) return `count ${String(count)} is not an integer in [1, ${MAX_FOLLOWER_BATCH_OPS}]`;
  if (!(sqlIndex instanceof Int32Array) || sqlIndex.length !== count) return `sqlIndex does not have ${count} entries`;
  if (!Array.isArray(params) || params.length !== count) return `params does not have ${count} entries`;
  if (!Array.isArray(sql) || sql.length > count) return 'sql is not an array of at most count texts';
  for (let k = 0; k < sql.length; k++) {
    const bad = sqlOk(sql[k]);
    if (bad !== null) return `sql[${k}] ${bad}`;
  }
  if (!Array.isArray(complex) || complex.length > count) return 'complex is not an array of at most count operations';
  let complexAt = 0;
  for (let i = 0; i < count; i++) {
    const at = sqlIndex[i]!;
    if (at === -1) {
      const entry = complex[complexAt++] as unknown;
      // In op order, each index once: the layout the scheduler makes.
      if (!Array.isArray(entry) || entry.length !== 2 || entry[0] !== i) return `op ${i} has no entry in complex (or complex is out of order)`;
      if (params[i] !== undefined) return `op ${i} has parameters in both places`;
      const bad = opProblem(entry[1]);
      if (bad !== null) return `op ${i} ${bad}`;
    } else {
      if (at < 0 || at >= sql.length) return `op ${i} names sql text ${at} of ${sql.length}`;
      if (!paramsOk(params[i])) return `op ${i} has parameters SQLite cannot bind`;
    }
  }
  if (complexAt !== complex.length) return 'complex has operations that no op index names';
  if (task.safeIntegers !== undefined && typeof task.safeIntegers !== 'boolean') return 'safeIntegers is not a boolean';
  return null;
}

/** Checks a follower's task message; returns the task to run (its `bytes` set to the frame's size) or what is wrong. */
export function checkFollowerTask(task: unknown, frameBytes: number): { task: WriterTask } | { problem: string } {
  if (!isObj(task)) return { problem: 'the task is missing' };
  if (task['kind'] === 'checkpoint') {
    const mode = task['mode'];
    return typeof mode === 'string' && CHECKPOINT_MODES.has(mode) ? { task: { kind: 'checkpoint', mode: mode as 'auto' } } : { problem: 'checkpoint mode is not one of auto, passive, full, restart, truncate' };
  }
  if (task['kind'] !== 'batch') return { problem: `a follower cannot send a ${JSON.stringify(String(task['kind']).slice(0, 40))} task` };
  const batch = task as unknown as BatchTask;
  const problem = batchProblem(batch);
  if (problem !== null) return { problem };
  // The size a follower claims is not trusted for the byte budget: the frame's own size is.
  return { task: { ...batch, bytes: frameBytes, safeIntegers: batch.safeIntegers === true } };
}

/**
 * Checks a leader's reply against the task it answers, before any promise settles by it: a
 * `batch-done` must carry one result per op sent. Returns what is wrong, or null.
 */
export function replyProblem(reply: unknown, task: WriterTask): string | null {
  if (!isObj(reply)) return 'the reply is missing';
  switch (reply['kind']) {
    case 'failed': {
      return isErrorData(reply['error']) ? null : 'failed without an error { name, message, code? }';
    }
    case 'batch-done': {
      if (task.kind !== 'batch') return `a batch-done answers a ${task.kind} task`;
      const { changes, rowids, values, errors } = reply;
      if (!(changes instanceof Float64Array) || changes.length !== task.count) return `changes does not have ${task.count} entries`;
      if (!(rowids instanceof Float64Array) || rowids.length !== task.count) return `rowids does not have ${task.count} entries`;
      const pairsOk = (pairs: unknown): boolean =>
        Array.isArray(pairs) && pairs.every((p) => Array.isArray(p) && p.length === 2 && Number.isSafeInteger(p[0]) && (p[0] as number) >= 0 && (p[0] as number) < task.count);
      if (!pairsOk(values) || !pairsOk(errors)) return 'values or errors name ops outside the batch';
      if (!(errors as unknown[]).every((p) => isErrorData((p as unknown[])[1]))) return 'an error is not { name, message, code? }';
      if (typeof reply['committed'] !== 'boolean') return 'committed is not a boolean';
      return null;
    }
    case 'checkpointed':
      return task.kind === 'checkpoint' && Array.isArray(reply['reports']) ? null : 'a checkpointed reply answers another task';
    default:
      return `unknown reply kind ${JSON.stringify(String(reply['kind']).slice(0, 40))}`;
  }
}
