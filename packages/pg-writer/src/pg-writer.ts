import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { BatchDone, BatchTask, ErrorData, WriterNotice, WriterReply, WriterTask } from '@litescribe/writer-worker';
import { jitteredDelay } from '@litescribe/writer-worker/jittered-delay';
import { ProceduresLoadError, loadProcedures } from '@litescribe/writer-worker/load-procedures';
import { bulkInsertPlan, columnTypes } from './bulk-insert.js';
import type { BulkStatement } from './bulk-insert.js';
import { BatchAbort, abortFor, runOps } from './pg-batch.js';
import type { BatchConnection, OpOutcome, PgProcedure } from './pg-batch.js';
import { isConnectionError, pgErrorData } from './pg-error-data.js';
import { SILENCE_MARGIN_MS, serverBoundMs } from './server-bound.js';
import type { PgWriterConfig } from './protocol.js';

/** Pause between attempts to reach a server that is down: full jitter, window doubling 50 ms → 1 s. */
const RECONNECT_MIN_MS = 50;
const RECONNECT_MAX_MS = 1_000;

/** Batches that start with savepoints after one that had a failing op. */
const SAVEPOINTS_AFTER_FAILURE = 8;

/** How often a watched wait looks at the silence (a fraction of the bound, at most this). */
const SILENCE_CHECK_MS = 250;
/**
 * After a batch gave up on an unreachable or silent server, the batches right behind it (for this
 * long at most; `busyDeadlineMs` if shorter) make one quick attempt to connect, with
 * {@link QUICK_CONNECT_MS}, instead of each waiting out a full one: ops queued behind a stuck batch
 * had already waited for it. A server that is back answers that attempt in milliseconds. Measured:
 * 16 callers, the server SIGSTOPped, `busyDeadlineMs` 1000: the longest wait was 2.5 s without
 * this (the stuck batch, then the next one's attempt to connect), over the bound + 1 s.
 */
const UNREACHABLE_HOLD_MS = 1_000;
const QUICK_CONNECT_MS = 250;

/** Not reachable within the deadline: nothing of the batch ran. */
class Unreachable extends Error {}

/**
 * The writer on PostgreSQL: one pipelined node-postgres connection, one transaction per batch task.
 * It answers the SQLite writer's protocol, so the scheduler (group commit, order, backpressure) is
 * the same code for both engines.
 *
 * Per batch: `BEGIN`, every op pipelined, then `COMMIT` on its own, so that "lost before COMMIT was
 * sent" (run it again on a new connection: the server rolled it back) is told apart from "lost
 * while COMMIT was in flight" (outcome unknown: every op rejects, nothing is replayed).
 */
export class PgWriter {
  readonly #config: PgWriterConfig;
  readonly #notify: (notice: WriterNotice) => void;
  #conn: BatchConnection | null = null;
  #procedures: Promise<ReadonlyMap<string, PgProcedure>> | null = null;
  /** Tasks run strictly one after another: two transactions cannot share the connection. */
  #tail: Promise<unknown> = Promise.resolve();
  #closed = false;
  /** Batches still to start with a savepoint per op (see #attempt). */
  #savepointBatches = 0;
  /** Until when a batch makes only one quick attempt to connect (see UNREACHABLE_HOLD_MS). */
  #unreachableUntil = 0;

  constructor(config: PgWriterConfig, notify: (notice: WriterNotice) => void) {
    this.#config = config;
    this.#notify = notify;
  }

  /** Runs one task after those given before it. Never rejects: failures come back as `failed` or per op. */
  run(task: WriterTask): Promise<WriterReply> {
    const next = this.#tail.then(() => this.#runNow(task));
    this.#tail = next.catch(() => {});
    return next.catch((err: unknown): WriterReply => ({ kind: 'failed', error: pgErrorData(err) }));
  }

  async #runNow(task: WriterTask): Promise<WriterReply> {
    switch (task.kind) {
      case 'open':
        return this.#open(task.setup);
      case 'batch':
        return this.#batch(task);
      case 'checkpoint':
        return { kind: 'failed', error: { name: 'NotSupportedError', code: 'ERR_NOT_SUPPORTED', message: 'checkpoint() does not apply to PostgreSQL: the server checkpoints on its own' } };
      case 'close':
        this.#closed = true;
        await this.#drop();
        return { kind: 'closed', reports: [] };
      default:
        throw new Error(`PostgreSQL writer got an unknown task kind: ${JSON.stringify((task as { kind: unknown }).kind)}`);
    }
  }

  /** One attempt (no waiting at open: a server that is down is a clear error now, not a hang), then setup in one transaction. */
  async #open(setup: readonly string[]): Promise<WriterReply> {
    let conn: BatchConnection;
    try {
      conn = await this.#connect(serverBoundMs(this.#config.busyDeadlineMs));
    } catch (err) {
      return { kind: 'failed', error: unavailable(this.#config.url, err) };
    }
    try {
      const procedures = await this.#loadProcedures();
      await conn.watched(this.#silenceMs(), () => this.#setup(conn, setup));
      const version = await conn.watched(this.#silenceMs(), () => conn.client.query<{ server_version: string }>('SHOW server_version'));
      return { kind: 'opened', sqliteVersion: '', postgresVersion: version.rows[0]!.server_version, procedures: [...procedures.keys()], walBytes: 0 };
    } catch (err) {
      await this.#drop();
      if (err instanceof ProceduresLoadError) return { kind: 'failed', error: { name: 'InvalidOptionError', code: err.code, message: err.message } };
      if (isConnectionError(err)) return { kind: 'failed', error: unavailable(this.#config.url, err) };
      return { kind: 'failed', error: pgErrorData(err) };
    }
  }

  /** The setup statements, in one transaction. */
  async #setup(conn: BatchConnection, setup: readonly string[]): Promise<void> {
    if (setup.length === 0) return;
    await conn.client.query('BEGIN');
    try {
      // Simple-query protocol: a setup string may hold several statements.
      for (const sql of setup) await conn.client.query(sql);
      await conn.client.query('COMMIT');
    } catch (err) {
      await conn.client.query('ROLLBACK').catch(() => {});
      throw err;
    }
  }

  /** The longest the writer waits on a server that sends nothing (see SILENCE_MARGIN_MS). */
  #silenceMs(): number {
    return serverBoundMs(this.#config.busyDeadlineMs) + SILENCE_MARGIN_MS;
  }

  async #batch(task: BatchTask): Promise<BatchDone> {
    const started = performance.now();
    const deadline = started + this.#config.busyDeadlineMs;
    // Right after a batch gave up on the server: one quick try to connect, no more (see
    // UNREACHABLE_HOLD_MS). Once connected, the batch has its whole deadline as usual.
    let quick = started < this.#unreachableUntil;
    let retries = 0;
    for (;;) {
      let conn: BatchConnection;
      try {
        conn = quick ? await this.#connected(started, () => retries, QUICK_CONNECT_MS) : await this.#connected(deadline, () => retries++);
        quick = false;
      } catch (err) {
        this.#holdOff();
        return failAll(task, unavailable(this.#config.url, err), retries, started);
      }
      let why: BatchAbort;
      try {
        const { outcomes, xid } = await conn.watched(this.#silenceMs(), () => this.#attempt(conn, task));
        // The connection died while the ops ran: nothing was committed, COMMIT was never sent.
        if (!conn.alive()) throw new BatchAbort('connection', new Error('connection lost before COMMIT'));
        let committed: pg.QueryResult;
        try {
          committed = await conn.watched(this.#silenceMs(), () => conn.client.query('COMMIT'));
        } catch (err) {
          const abort = abortFor(conn, err);
          if (abort?.reason === 'retry') throw abort; // the server rolled it back: run it again
          if (abort !== null || isConnectionError(err)) {
            void this.#forget(conn);
            // The transaction's id was read inside it: the server can say what became of it.
            const id = await xid;
            // Asked within the batch's own bound + the silence margin (at least one quick attempt):
            // a server that stopped answering must not hold these ops much past the bound.
            const asked = started + this.#silenceMs();
            const status = id === null ? null : await this.#statusOf(id, (conn.client as unknown as { processID?: number }).processID, asked);
            if (status === 'committed') return done(task, outcomes, retries, started);
            if (status === 'aborted') {
              return failAll(task, { name: 'NotCommittedError', code: 'ERR_NOT_COMMITTED', message: `the connection to PostgreSQL was lost while COMMIT was in flight, and the server says transaction ${id} did not commit: nothing of this operation is in the database, and it may be run again (${describe(err)})` }, retries, started);
            }
            return failAll(task, { name: 'WorkerExitedError', code: 'ERR_WORKER_EXITED', message: `the connection to PostgreSQL was lost while COMMIT was in flight, and the server could not say within the bound whether transaction ${id ?? '(id unknown)'} committed; whether this operation committed is unknown, so it is not retried (${describe(err)})` }, retries, started);
          }
          return failAll(task, pgErrorData(err), retries, started); // e.g. a deferred constraint: rolled back
        }
        if (committed.command !== 'COMMIT') {
          return failAll(task, { name: 'TransactionLostError', code: 'ERR_TRANSACTION_LOST', message: `COMMIT answered ${committed.command}: the transaction had been rolled back` }, retries, started);
        }
        return done(task, outcomes, retries, started);
      } catch (err) {
        if (err instanceof BatchAbort) why = err;
        // e.g. the ROLLBACK/BEGIN between the two passes, on a connection that just went away
        else if (!conn.alive()) why = new BatchAbort('connection', err);
        else {
          await this.#rollback(conn);
          return failAll(task, pgErrorData(err), retries, started);
        }
      }
      const waitedMs = performance.now() - started;
      if (why.reason === 'connection') {
        void this.#forget(conn);
        if (performance.now() >= deadline) {
          this.#holdOff();
          return failAll(task, unavailable(this.#config.url, why.cause), retries, started);
        }
        retries += 1;
        this.#notify({ kind: 'retry', attempt: retries, delayMs: 0, code: codeOf(why.cause), waitedMs });
        continue; // #connected paces the reconnection attempts
      }
      // 'retry': serialization failure or deadlock, the server rolled the transaction back.
      await this.#rollback(conn);
      const leftMs = deadline - performance.now();
      if (leftMs <= 0) {
        const message = `PostgreSQL kept aborting this batch (${codeOf(why.cause)}: ${describe(why.cause)}) for ${Math.round(waitedMs)} ms and ${retries + 1} attempts`;
        return failAll(task, { name: 'BusyTimeoutError', code: 'ERR_BUSY_TIMEOUT', message }, retries, started);
      }
      retries += 1;
      const delayMs = Math.min(leftMs, jitteredDelay(retries, this.#config.busyRetryMinMs, this.#config.busyRetryMaxMs));
      this.#notify({ kind: 'retry', attempt: retries, delayMs, code: codeOf(why.cause), waitedMs });
      await sleep(delayMs);
    }
  }

  /**
   * BEGIN and the ops. Pipelined without savepoints while ops succeed (2.7–2.9x the throughput of
   * a savepoint per op, docs/postgres.md); an op that fails rolls the attempt back and the same ops run again with a
   * savepoint each. After a batch that had a failing op, the next {@link SAVEPOINTS_AFTER_FAILURE}
   * batches start with savepoints: where failures are common, the pass without them (whose every
   * op after the culprit fails too) would only be thrown away. Figures: docs/postgres.md.
   */
  async #attempt(conn: BatchConnection, task: BatchTask): Promise<{ outcomes: OpOutcome[]; xid: Promise<string | null> }> {
    const procedures = await this.#loadProcedures();
    await this.#learnBulkTypes(conn, task);
    const begin = `BEGIN ISOLATION LEVEL ${this.#config.isolation.toUpperCase()}`;
    const began = conn.client.query(begin);
    began.catch(() => {}); // its failure (a lost connection) shows in the ops' own results
    let xid = transactionId(conn);
    let outcomes: OpOutcome[] | null = null;
    if (this.#config.failureIsolation === 'savepoint-per-op' || this.#savepointBatches > 0) {
      outcomes = await runOps(conn, task, procedures, true);
    } else {
      try {
        outcomes = await runOps(conn, task, procedures, false);
      } catch (err) {
        if (!(err instanceof BatchAbort) || err.reason !== 'isolate') throw err;
      }
    }
    if (outcomes === null) {
      // Nothing had committed: run the same ops again, each in its own savepoint.
      await conn.client.query('ROLLBACK');
      await conn.client.query(begin);
      xid = transactionId(conn);
      outcomes = await runOps(conn, task, procedures, true);
      this.#savepointBatches = SAVEPOINTS_AFTER_FAILURE;
    } else if (outcomes.some((o) => !o.ok)) {
      this.#savepointBatches = SAVEPOINTS_AFTER_FAILURE;
    } else if (this.#savepointBatches > 0) {
      this.#savepointBatches -= 1;
    }
    return { outcomes, xid };
  }

  /**
   * What became of transaction `xid`, whose COMMIT was in flight when its connection was lost:
   * asked on a new connection (`txid_status`). `'committed'` or `'aborted'`; null when the server
   * cannot say within the bound (unreachable, the id too old, or still in progress: the old
   * session has not ended yet).
   *
   * Still in progress means the server has not noticed that the old session's client is gone (a
   * partition rather than a reset). Its backend (`oldPid`) is then ended: that cannot undo a commit
   * already made durable (the server takes the interrupt only after the commit), and it makes a
   * COMMIT that never arrived a rollback, so the status becomes final at once.
   */
  async #statusOf(xid: string, oldPid: number | undefined, deadline: number): Promise<'committed' | 'aborted' | null> {
    let ended = false;
    for (let attempt = 1; attempt === 1 || performance.now() < deadline; attempt++) {
      try {
        const conn = await this.#connected(deadline, () => attempt, QUICK_CONNECT_MS);
        const res = await conn.watched(this.#silenceMs(), () => conn.client.query<{ status: string | null }>('SELECT txid_status($1::bigint) AS status', [xid]));
        const status = res.rows[0]?.status ?? null;
        if (status === 'committed' || status === 'aborted') return status;
        if (status === null) return null; // too old to know
        if (!ended && oldPid !== undefined && attempt >= 3) {
          ended = true;
          await conn.watched(this.#silenceMs(), () => conn.client.query('SELECT pg_terminate_backend($1::int)', [oldPid])).catch(() => {});
        }
      } catch {
        // unreachable again: try until the deadline
      }
      // In progress: the lost session still holds it; the server ends it (commit or rollback) soon.
      await sleep(Math.min(Math.max(0, deadline - performance.now()), jitteredDelay(attempt, 10, 200)));
    }
    return null;
  }

  /**
   * Before the batch's BEGIN: the column types of each runMany statement that can run set-based
   * and is new on this connection (one catalog query each, sent together; see bulk-insert.ts).
   */
  async #learnBulkTypes(conn: BatchConnection, task: BatchTask): Promise<void> {
    if (this.#config.bulk === 'per-statement' || task.complex.length === 0) return;
    const lookups: Array<Promise<void>> = [];
    for (const [, op] of task.complex) {
      if (op.kind !== 'many' || conn.bulk.has(op.sql)) continue;
      // Per row until the catalog answers, and for good if it cannot (a name to_regclass cannot parse).
      conn.bulk.set(op.sql, null);
      const plan = bulkInsertPlan(op.sql);
      if (plan === null) continue;
      lookups.push(
        columnTypes(conn.client, plan).then(
          (types) => void conn.bulk.set(op.sql, types === null ? null : { plan, types }),
          (err: unknown) => {
            if (!conn.alive()) throw err;
          },
        ),
      );
    }
    await Promise.all(lookups);
  }

  /** The server was not reachable for a whole batch: the next ones try only once, quickly, for a moment. */
  #holdOff(): void {
    this.#unreachableUntil = performance.now() + Math.min(UNREACHABLE_HOLD_MS, this.#config.busyDeadlineMs);
  }

  async #rollback(conn: BatchConnection): Promise<void> {
    if (conn.alive()) await conn.client.query('ROLLBACK').catch(() => {});
  }

  /** The live connection, or a new one; retries until `deadline` while the server is unreachable (each attempt given at least `minTimeoutMs`). */
  async #connected(deadline: number, onRetry: () => number, minTimeoutMs = 1_000): Promise<BatchConnection> {
    if (this.#conn !== null && this.#conn.alive()) return this.#conn;
    void this.#forget(this.#conn);
    const started = performance.now();
    for (let attempt = 1; ; attempt++) {
      try {
        // A server that accepts the connection and then says nothing holds it no longer than the deadline.
        return await this.#connect(Math.max(minTimeoutMs, deadline - performance.now()));
      } catch (err) {
        const leftMs = deadline - performance.now();
        if (leftMs <= 0 || this.#closed) throw new Unreachable(describe(err), { cause: err });
        const delayMs = Math.min(leftMs, jitteredDelay(attempt, RECONNECT_MIN_MS, RECONNECT_MAX_MS));
        this.#notify({ kind: 'retry', attempt: onRetry() + 1, delayMs, code: codeOf(err), waitedMs: performance.now() - started });
        await sleep(delayMs);
      }
    }
  }

  /** A new connection; connecting (and the server's startup answer) may take at most `timeoutMs`. */
  async #connect(timeoutMs: number): Promise<BatchConnection> {
    const client = new pg.Client({
      connectionString: this.#config.url,
      pipeline: true,
      application_name: 'litescribe-writer',
      keepAlive: true,
      connectionTimeoutMillis: Math.max(1, Math.round(timeoutMs)),
      // A lock held by another session must not hold the writer (and every caller) past the deadline.
      lock_timeout: Math.max(1, this.#config.busyDeadlineMs),
      // Nor a statement that runs that long: the server ends it (57014) before the writer would
      // take its silence for a dead server.
      statement_timeout: serverBoundMs(this.#config.busyDeadlineMs),
    });
    let alive = true;
    // Without a listener an 'error' (server restart, reset socket) would crash the thread.
    client.on('error', () => {
      alive = false;
    });
    client.on('end', () => {
      alive = false;
    });
    try {
      await client.connect();
    } catch (err) {
      await client.end().catch(() => {});
      throw err;
    }
    const names = new Map<string, string>();
    const limit = this.#config.statementCacheSize;
    const statementName = (text: string): string | undefined => {
      let name = names.get(text);
      if (name === undefined && names.size < limit) {
        name = `litescribe_${names.size + 1}`;
        names.set(text, name);
      }
      return name;
    };
    // When the server was last heard from: any bytes at all (see BatchConnection.watched).
    const stream = (client as unknown as { connection: { stream: import('node:net').Socket } }).connection.stream;
    let heardAt = performance.now();
    stream.on('data', () => {
      heardAt = performance.now();
    });
    const watched = async <T>(silenceMs: number, work: () => Promise<T>): Promise<T> => {
      heardAt = performance.now();
      const timer = setInterval(
        () => {
          const silent = performance.now() - heardAt;
          if (silent < silenceMs || !alive) return;
          alive = false;
          stream.destroy(new Error(`PostgreSQL sent nothing for ${Math.round(silent)} ms (the bound is ${silenceMs} ms: busyDeadlineMs, at least 1 s, + ${SILENCE_MARGIN_MS} ms): the connection was dropped`));
        },
        Math.min(SILENCE_CHECK_MS, Math.max(10, silenceMs / 4)),
      );
      try {
        return await work();
      } finally {
        clearInterval(timer);
      }
    };
    const conn = { client, alive: () => alive, statementName, watched, bulk: new Map<string, BulkStatement | null>() };
    this.#conn = conn;
    return conn;
  }

  /** Stops using `conn` and ends it; resolves once it has ended (callers that need not wait do not). */
  #forget(conn: BatchConnection | null): Promise<void> {
    if (conn === null) return Promise.resolve();
    if (this.#conn === conn) this.#conn = null;
    return conn.client.end().catch(() => {});
  }

  async #drop(): Promise<void> {
    await this.#forget(this.#conn);
  }

  #loadProcedures(): Promise<ReadonlyMap<string, PgProcedure>> {
    this.#procedures ??= loadProcedures<PgProcedure>(this.#config.proceduresUrl);
    return this.#procedures;
  }
}

function unavailable(url: string, err: unknown): ErrorData {
  const cause = err instanceof Unreachable ? err.message : describe(err);
  return { name: 'ServerUnavailableError', code: 'ERR_SERVER_UNAVAILABLE', message: `PostgreSQL at ${redact(url)} is not reachable (${cause}); nothing of this operation ran` };
}

/** The URL without its password, for messages. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.href;
  } catch {
    return '(the configured url)';
  }
}

function codeOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'ECONNLOST';
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message || err.name : String(err);
}

function failAll(task: BatchTask, error: ErrorData, retries: number, started: number): BatchDone {
  return {
    kind: 'batch-done',
    committed: false,
    changes: new Float64Array(task.count),
    rowids: new Float64Array(task.count),
    values: [],
    errors: Array.from({ length: task.count }, (_, i) => [i, error] as const),
    busyRetries: retries,
    lockWaitMs: retries === 0 ? 0 : performance.now() - started,
    walBytes: 0,
    transactionOps: 0,
  };
}

/** The reply to a committed batch: per-op results, and the errors of the ops that failed alone. */
function done(task: BatchTask, outcomes: readonly OpOutcome[], retries: number, started: number): BatchDone {
  const changes = new Float64Array(task.count);
  const values: Array<readonly [number, unknown]> = [];
  const errors: Array<readonly [number, ErrorData]> = [];
  for (let i = 0; i < outcomes.length; i++) {
    const outcome = outcomes[i]!;
    if (!outcome.ok) {
      errors.push([i, outcome.error]);
      continue;
    }
    changes[i] = outcome.changes;
    // A plain run without RETURNING rows travels as its change count alone (the columns);
    // anything else (rows, a batch's results, a procedure's value) whole.
    const plainRun = task.sqlIndex[i]! >= 0 && (outcome.value as { rows?: unknown }).rows === undefined;
    if (!plainRun) values.push([i, outcome.value]);
  }
  return {
    kind: 'batch-done',
    committed: true,
    changes,
    rowids: new Float64Array(task.count),
    values,
    errors,
    busyRetries: retries,
    lockWaitMs: retries === 0 ? 0 : performance.now() - started,
    walBytes: 0,
    transactionOps: task.count,
  };
}

/** The current transaction's id (`txid_current()`), pipelined right after BEGIN; null if it could not be read. */
function transactionId(conn: BatchConnection): Promise<string | null> {
  return conn.client
    .query<{ xid: string }>({ text: 'SELECT txid_current()::text AS xid', name: 'litescribe_xid' })
    .then(
      (res) => res.rows[0]?.xid ?? null,
      () => null,
    );
}
