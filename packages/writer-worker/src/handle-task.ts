import { BroadcastChannel, workerData } from 'node:worker_threads';
import { runBatch } from './batch-runner.js';
import type { BusyRetryPolicy } from './busy-retry.js';
import { checkpoint } from './checkpointer.js';
import { periodicCheckpointDue } from './checkpoint-policy.js';
import { toErrorData } from './error-data.js';
import { Followers } from './share/followers.js';
import { LeaderServer } from './share/leader-server.js';
import { mergeBatches, splitBatchDone } from './share/merge-batches.js';
import type { BatchTask, CheckpointReport, ErrorData, WriterConfig, WriterNotice, WriterReply, WriterTask } from './protocol.js';
import { WriterErrorCode } from './protocol.js';
import { WriterConnection, WriterError } from './writer-connection.js';
import type { Procedure } from './writer-connection.js';

// One writer thread, one connection. A replacement thread (after a crash) starts with none and
// opens it on its first task from the same workerData, so it behaves exactly like the first.
const config = workerData as WriterConfig;
let connection: WriterConnection | null = null;
let notices: BroadcastChannel | null = null;
let server: LeaderServer | null = null;

const retryPolicy: BusyRetryPolicy = {
  deadlineMs: config?.busyDeadlineMs ?? 0,
  minDelayMs: config?.busyRetryMinMs ?? 1,
  maxDelayMs: config?.busyRetryMaxMs ?? 1,
  onRetry: (notice: WriterNotice) => {
    notices ??= new BroadcastChannel(config.noticeChannel);
    notices.postMessage(notice);
  },
};

async function connect(): Promise<WriterConnection> {
  connection ??= await WriterConnection.open(config, retryPolicy);
  return connection;
}

type Procedures = ReadonlyMap<string, Procedure>;

/** One unit of the writer's work: a task (this process's or a follower's), or a step of a follower joining. */
type Job =
  | {
      readonly kind: 'task';
      readonly task: WriterTask;
      readonly procedures: Procedures | null;
      readonly done: (reply: WriterReply) => void;
      /** A follower's task: false once that follower has hung up (see RunFollowerTask). */
      readonly wanted?: () => boolean;
    }
  | { readonly kind: 'step'; readonly step: () => Promise<void>; readonly done: (err: unknown) => void };

// Jobs run strictly one after another: two batches interleaved on one connection would share a
// transaction. The main thread keeps a second task queued here while the first runs (so the writer
// never idles waiting for the main thread), and a leader's followers add theirs; consecutive batches
// waiting here commit together in one transaction (group commit across processes).
const jobs: Job[] = [];
let draining = false;

function submit(job: Job): void {
  jobs.push(job);
  if (draining) return;
  draining = true;
  // A leader with followers starts after the poll phase: every follower socket readable in this
  // turn of the event loop has then added its batch, and they commit together. Started at once (a
  // microtask), the first socket's batch would run alone and the others would wait a whole
  // transaction. Alone, it starts at once: nothing else could join, and the hop costs a lone write.
  if (followers.size > 0) setImmediate(drain);
  else void drain();
}

function submitTask(task: WriterTask, procedures: Procedures | null, wanted?: () => boolean): Promise<WriterReply> {
  return new Promise((resolve) => submit({ kind: 'task', task, procedures, done: resolve, ...(wanted === undefined ? {} : { wanted }) }));
}

const HUNG_UP: WriterReply = {
  kind: 'failed',
  error: { name: 'WorkerExitedError', code: WriterErrorCode.workerExited, message: 'the follower hung up before its batch ran; it was not run' },
};

/** The next job, after dropping the follower tasks at the head of the queue whose follower has hung up. */
function peekJob(): Job | undefined {
  for (let next = jobs[0]; next?.kind === 'task' && next.wanted !== undefined && !next.wanted(); next = jobs[0]) {
    jobs.shift();
    next.done(HUNG_UP);
  }
  return jobs[0];
}

async function drain(): Promise<void> {
  while (peekJob() !== undefined) {
    const job = jobs.shift()!;
    if (job.kind === 'step') {
      await job.step().then(() => job.done(undefined), job.done);
    } else if (job.task.kind === 'batch') {
      const group: Array<{ task: BatchTask; procedures: Procedures | null; done: (reply: WriterReply) => void }> = [{ ...job, task: job.task }];
      let ops = job.task.count;
      let bytes = job.task.bytes;
      for (
        let next = peekJob();
        next?.kind === 'task' &&
        next.task.kind === 'batch' &&
        ops + next.task.count <= config.maxBatchOps &&
        bytes + next.task.bytes <= config.maxBatchBytes &&
        // One integer mode per merged batch: a process's safeIntegers decides how its rowids come back.
        (next.task.safeIntegers === true) === (job.task.safeIntegers === true);
        next = peekJob()
      ) {
        jobs.shift();
        ops += next.task.count;
        bytes += next.task.bytes;
        group.push({ ...next, task: next.task });
      }
      await runGroup(group);
    } else {
      job.done(await runTask(job.task));
    }
  }
  draining = false;
}

/** Commits several processes' batches in one transaction and answers each with its own part. */
async function runGroup(group: ReadonlyArray<{ task: BatchTask; procedures: Procedures | null; done: (reply: WriterReply) => void }>): Promise<void> {
  let replies: WriterReply[];
  try {
    const conn = await connect();
    // The database file is looked at before the transaction too: after a backup was renamed over
    // it, a commit would put page images of the old file into the -wal beside the new one.
    const before = halted ?? conn.databaseFileProblem();
    if (before !== null) {
      replies = refuseGroup(group, before, false);
    } else {
      const merged = mergeBatches(group.map((g) => g.task));
      // Each op's `call` resolves against its own process's procedures module.
      const bounds = group.map((g) => g.task.count);
      const proceduresOf = (opIndex: number): Procedures => {
        let end = 0;
        for (let k = 0; k < group.length; k++) {
          end += bounds[k]!;
          if (opIndex < end) return group[k]!.procedures ?? conn.procedures;
        }
        return conn.procedures;
      };
      const { done, moved } = await runBatch(conn, merged, retryPolicy, proceduresOf);
      if (done.committed) commitsSinceCheckpoint += 1;
      replies = moved === null ? splitBatchDone(done, bounds) : refuseGroup(group, moved, done.committed);
    }
  } catch (err) {
    const failed: WriterReply = { kind: 'failed', error: toErrorData(err) };
    replies = group.map(() => failed);
  }
  group.forEach((g, k) => g.done(replies[k]!));
}

/** Halts (the file changed under the connection) and fails every batch of the group with why. */
function refuseGroup(group: readonly unknown[], problem: string, committed: boolean): WriterReply[] {
  halt(problem);
  const failed: WriterReply = { kind: 'failed', error: fileReplaced(problem, committed) };
  return group.map(() => failed);
}

/**
 * The writer thread's task handler (piscina calls it by this name). Never throws: every failure
 * comes back as data so the main thread can type it; a rejected task therefore means the thread
 * itself died.
 */
export function handleTask(task: WriterTask): Promise<WriterReply> {
  // A leader that is closing redirects followers' new tasks from now on, not from when close runs.
  if (task.kind === 'close') server?.beginClose();
  return submitTask(task, null);
}

/** Commits since the last checkpoint, every process's, and when it ran. */
let commitsSinceCheckpoint = 0;
let lastCheckpointAt = performance.now();

/**
 * Set once the database file or its -wal was deleted or replaced under the connection (what
 * changed): from then on nothing is written, checkpointed or acknowledged, and every task fails
 * with `ERR_FILE_REPLACED`. A leader steps down, so its followers elect one on the live file.
 */
let halted: string | null = null;

/**
 * A leader's event loop is live, so it also looks at the file once a second between writes: a
 * backup renamed over the file gets a new inode, and a new opener would lead that one while this
 * leader still led the old one. (A writer serving only its own process looks after each batch.)
 */
function watchGeneration(): void {
  const timer = setInterval(() => {
    if (server === null || halted !== null) return void clearInterval(timer);
    const problem = connection?.generationProblem() ?? null;
    if (problem !== null) halt(problem);
  }, 1_000);
  timer.unref();
}

function halt(problem: string): void {
  halted ??= problem;
  if (server !== null) {
    void server.end();
    server = null;
  }
}

function fileReplaced(problem: string, committed: boolean): ErrorData {
  const what = committed ? 'written into the old generation of the file, so it is not in the live one' : 'not written';
  return {
    name: 'FileReplacedError',
    code: WriterErrorCode.fileReplaced,
    message: `${what}: ${problem}. This queue writes no more: close it, check the database file, and open it again`,
  };
}

async function runTask(task: WriterTask): Promise<WriterReply> {
  try {
    switch (task.kind) {
      case 'open': {
        if (config.share !== null && server === null) {
          try {
            server = await LeaderServer.listen(config.share.socketName, config.share.tokenPath, followers);
            watchGeneration();
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
            throw new WriterError(WriterErrorCode.leaderExists, 'another process leads this database file');
          }
        }
        const conn = await connect();
        await conn.applySetup(task.setup, retryPolicy);
        return {
          kind: 'opened',
          sqliteVersion: conn.sqliteVersion,
          procedures: [...conn.procedures.keys()],
          walBytes: conn.walBytes(),
        };
      }
      case 'batch':
        throw new Error('batches run in groups (drain)');
      case 'checkpoint': {
        const conn = await connect();
        // Checkpointing a dead generation would copy its frames over whatever the live file holds.
        const problem = halted ?? conn.generationProblem();
        if (problem !== null) {
          halt(problem);
          return { kind: 'failed', error: fileReplaced(problem, false) };
        }
        if (task.mode === 'auto' && !checkpointDue(conn)) return { kind: 'checkpointed', reports: [] };
        commitsSinceCheckpoint = 0;
        lastCheckpointAt = performance.now();
        const reason = task.mode === 'auto' ? 'interval' : 'request';
        return { kind: 'checkpointed', reports: await checkpoint(conn, task.mode, reason) };
      }
      case 'close': {
        const leaving = server?.end();
        server = null;
        let reports: CheckpointReport[] = [];
        if (connection !== null) {
          const conn = connection;
          connection = null;
          if ((halted ?? conn.generationProblem()) !== null) {
            conn.closeDeadGeneration();
          } else {
            reports = await checkpoint(conn, 'truncate', 'close');
            conn.close();
          }
        }
        notices?.close();
        notices = null;
        // Answered once every follower has hung up, so this process may exit at once.
        await leaving;
        return { kind: 'closed', reports };
      }
      default:
        throw new Error(`writer got an unknown task kind: ${JSON.stringify((task as { kind: unknown }).kind)}`);
    }
  } catch (err) {
    return { kind: 'failed', error: toErrorData(err) };
  }
}

/**
 * A periodic checkpoint comes from every process's scheduler, each counting only the commits of its
 * own batches. Alone, this writer sees exactly what its scheduler counted, so it always runs it.
 * As a leader it skips one asked for too soon after the last (another process asked first): the
 * same policy, counted over every process's commits.
 */
function checkpointDue(conn: WriterConnection): boolean {
  if (config.share === null) return true;
  const wal = conn.walBytes();
  return periodicCheckpointDue(
    commitsSinceCheckpoint,
    config.checkpointEveryCommits,
    wal > config.walSoftLimitBytes,
    wal > config.walTargetBytes,
    performance.now() - lastCheckpointAt,
    config.checkpointMinIntervalMs,
  );
}

/** Runs `step` between transactions, in the writer's queue. */
function runStep(step: () => Promise<void>): Promise<void> {
  return new Promise((resolve, reject) => submit({ kind: 'step', step, done: (err) => (err === undefined ? resolve() : reject(err)) }));
}

const followers = new Followers({
  connect,
  connection: () => connection,
  runStep,
  submitTask,
  retry: retryPolicy,
  synchronous: config?.synchronous ?? 'normal',
});
