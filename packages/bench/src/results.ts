import type { LatencySummary } from './measure/latency-recorder.js';
import type { LoopDelaySummary } from './measure/loop-delay.js';

/** One measured row of a throughput suite. */
export interface StrategyResult {
  readonly suite: string;
  readonly name: string;
  readonly synchronous: 'normal' | 'full';
  readonly ops: number;
  readonly seconds: number;
  readonly opsPerSec: number;
  readonly latency: LatencySummary;
  readonly loopDelay: LoopDelaySummary;
  /** opsPerSec over the raw one-transaction limit measured in the same run and mode. */
  ratioToLimit?: number;
  readonly note?: string;
  /** For a burst: how long issuing it took the caller's thread in one turn, in ms. */
  readonly issueMs?: number;
  /** Settling rows: the most continuations one turn of the caller's event loop ran. */
  readonly busiestTurnOps?: number;
  /** CPU time per op of every thread of the process (caller's and writer's), in µs. */
  readonly cpuUsPerOp?: number;
}

/** One process of the multi-process scenario. */
export interface ProcessResult {
  readonly ops: number;
  readonly errors: number;
  readonly seconds: number;
  readonly latency: LatencySummary;
  readonly loopDelayMax: number;
  /** Lock retries by this process' writer (0 for the "before" variant, whose waits SQLite hides). */
  readonly busyRetries: number;
  /** `stats().role` at the end: leader, follower or solo; `inline` for "before". */
  readonly role: string;
  /** Wall-clock gaps of 5 ms or more between two acknowledged writes: [start, end] in epoch ms. */
  readonly gaps: ReadonlyArray<readonly [number, number]>;
  /** Writes rejected with WorkerExitedError (outcome unknown: a leader died holding them). */
  readonly inDoubt: number;
  /** Writes rejected with BusyTimeoutError. */
  readonly busy: number;
  /** Writes acknowledged inside each wall-clock window the suite named (ACK_WINDOWS). */
  readonly inWindows: readonly number[];
  /** Every `stats().role` this process had after its writes (a follower that wrote alone for a while: follower, solo). */
  readonly roles: readonly string[];
  /** CPU time of every thread of this process, from its first write until every process was done, in µs. */
  readonly cpuUs: number;
  readonly firstError?: string;
}

export interface ScenarioResult {
  readonly processes: number;
  /** `session`: the session store's appendMessage (FTS-indexed); `light`: one 200-byte INSERT. */
  readonly workload: 'session' | 'light';
  /** CPU µs of every process (all threads) per acknowledged write. */
  readonly cpuUsPerWrite: number;
  readonly variant: 'before' | 'after' | 'shared';
  /** Mean pause between one process's writes, in ms; 0 = each process awaits its writes back to back. */
  readonly thinkMs: number;
  /** Lock-retry policy of the "after" processes, e.g. "jitter 1–20 ms"; SQLite's handler for "before". */
  readonly policy: string;
  readonly perProcess: readonly ProcessResult[];
  readonly walPeakBytes: number;
  readonly totalOps: number;
  readonly totalErrors: number;
  readonly opsPerSec: number;
}

/** One round of the failover suite: the leader killed with SIGKILL while followers write back to back. */
export interface FailoverResult {
  readonly followers: number;
  /** From the kill to the next acknowledged write, per follower: the worst and the median. */
  readonly worstMs: number;
  readonly medianMs: number;
  /** Follower writes rejected as outcome-unknown, and writes acknowledged in all. */
  readonly inDoubt: number;
  readonly acknowledged: number;
  /** Rows in the file: at least `acknowledged`, at most `acknowledged + inDoubt`. */
  readonly rows: number;
  readonly integrity: string;
}

/** One round of the liveness suite: the leader stopped with SIGSTOP under load, then SIGCONT. */
export interface LivenessResult {
  readonly followers: number;
  readonly stoppedMs: number;
  readonly busyDeadlineMs: number;
  /** Each follower's slowest write (acknowledged or rejected), the worst of them. */
  readonly slowestWriteMs: number;
  /** Follower writes acknowledged while the leader was stopped. */
  readonly ackedWhileStopped: number;
  readonly inDoubt: number;
  readonly busy: number;
  readonly acknowledged: number;
  /** Rows the followers wrote: at least `acknowledged` (else `lost` > 0), at most `acknowledged + inDoubt` (else duplicates). */
  readonly rows: number;
  readonly lost: number;
  readonly duplicates: number;
  /** Processes that led at any point: must be 1. */
  readonly leaders: number;
  readonly integrity: string;
}

/** The hostile suite: a stranger flooding the leader's socket while followers write. */
export interface HostileResult {
  /** Who the stranger ran as. */
  readonly as: string;
  readonly windowMs: number;
  /** Connections the stranger opened during its window. */
  readonly connections: number;
  /** The honest followers' acknowledged writes in the quiet window and in the abuse window (same length). */
  readonly followerWritesBefore: number;
  readonly followerWritesDuring: number;
  /** The leader process's peak RSS during the abuse, over its RSS just before. */
  readonly leaderRssGrowthBytes: number;
  /** Writes of the leader and the followers that failed (must be 0). */
  readonly failedWrites: number;
  readonly leaderRole: string;
}

/** One row of the gateway suite (`--only gateway`): autocannon against examples/gateway. */
export interface GatewayResult {
  readonly mode: 'litescribe' | 'inline' | 'sqlite3';
  readonly synchronous: 'normal' | 'full';
  readonly connections: number;
  /** Acknowledged (2xx) POSTs per second. */
  readonly requestsPerSec: number;
  readonly latencyP50Ms: number;
  readonly latencyP99Ms: number;
  readonly non2xx: number;
  readonly errors: number;
  /** GET /health from a second client (one connection) while the POST load runs. */
  readonly healthP50Ms: number;
  readonly healthP99Ms: number;
  readonly healthMaxMs: number;
  /** /health requests answered during the load (0: the server never answered one). */
  readonly healthAnswered: number;
  /** Messages in the file afterwards (at least the 2xx, at most 2xx + the connections in flight). */
  readonly rows: number;
}

/** One row of the TUI suite (`--only tui`): frame gaps of a 60 fps timer while rows are written. */
export interface TuiResult {
  readonly scenario: 'burst' | 'steady';
  readonly variant: string;
  readonly rows: number;
  /** From the first row issued until every row is durable, in ms. */
  readonly durableMs: number;
  readonly frames: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  /** Gaps between frames longer than 33 ms (two frames missed). */
  readonly over33: number;
}

/** One row of the PostgreSQL suite (`--only postgres`). */
export interface PostgresResult {
  readonly name: string;
  /** Concurrent callers, or `burst` (all enqueued at once) / `batches` (the writer fed directly). */
  readonly callers: string;
  readonly ops: number;
  readonly seconds: number;
  readonly opsPerSec: number;
  readonly latencyP50Ms: number | null;
  readonly latencyP99Ms: number | null;
  /** Main-thread busy time (event-loop utilization) per op, in µs. */
  readonly mainThreadUsPerOp: number;
  readonly opsPerTransaction: number | null;
  readonly note?: string;
  /** The silent-server round: the bound, the longest any operation waited, how they ended, acknowledged writes missing. */
  readonly silent?: { readonly boundMs: number; readonly stoppedMs: number; readonly maxWaitMs: number; readonly rejected: number; readonly lost: number };
  /**
   * The COMMIT-cut round: connections cut at a COMMIT (`cuts`), how many of those batches ended
   * outcome-unknown, ops rejected as not committed, acknowledged writes missing, rows nobody was told of.
   */
  readonly commitLost?: { readonly cuts: number; readonly unknownBatches: number; readonly notCommittedOps: number; readonly lost: number; readonly unexplained: number };
}

export interface WalReaderResult {
  readonly policy: 'passive-only' | 'litescribe';
  readonly softLimitBytes: number;
  readonly bytesWritten: number;
  readonly walPeakBytes: number;
  readonly escalations: number;
  readonly readerTransactions: number;
}

export interface MicroResult {
  readonly name: string;
  readonly thread: 'main' | 'writer';
  readonly nsPerOp: number;
  readonly rme: number;
}

/**
 * One round of the backup suite: 64 callers writing back to back while `q.backup()` copies the
 * file; the same callers' rate in windows of the same length before and after it.
 */
export interface BackupResult {
  readonly fileBytes: number;
  readonly backupMs: number;
  readonly callers: number;
  /** Acknowledged writes per second: before, during and after the backup. */
  readonly opsPerSecBefore: number;
  readonly opsPerSecDuring: number;
  readonly opsPerSecAfter: number;
  /** The longest wall-clock gap between two acknowledged writes, in ms: before, during and after the backup. */
  readonly longestGapBeforeMs: number;
  readonly longestGapDuringMs: number;
  readonly longestGapAfterMs: number;
  /** The -wal's size when the backup ended (its snapshot holds checkpoints back while it runs). */
  readonly walBytesAfter: number;
  readonly integrity: string;
  /** Writes acknowledged before the backup began that the copy is missing (must be 0). */
  readonly missing: number;
}

/** Everything one run measured, as written to bench-results/results.json. */
export interface BenchResults {
  readonly startedAt: string;
  readonly machine: { cpus: string; cores: number; memoryGiB: number; node: string; platform: string; sqlite: string };
  readonly smoke: boolean;
  readonly strategies: StrategyResult[];
  readonly shapes: StrategyResult[];
  readonly roundTrip: { readonly bareEchoP50Ms: number; readonly queueP50Ms: number; readonly ratio: number } | null;
  readonly scenarios: ScenarioResult[];
  /** Retry policies compared across process counts (`--only contention`). */
  readonly contention: ScenarioResult[];
  readonly walReader: WalReaderResult[];
  readonly micro: MicroResult[];
  /** Leader SIGKILLed under load (`--only failover`). */
  readonly failover: FailoverResult[];
  /** Leader SIGSTOPped under load (`--only liveness`). */
  readonly liveness: LivenessResult[];
  /** A stranger flooding the leader's socket (`--only hostile`). */
  readonly hostile: HostileResult[];
  /** The same rows into one PostgreSQL server (`--only postgres`). */
  readonly postgres: PostgresResult[];
  /** A 60 fps UI while rows are written (`--only tui`). */
  readonly tui: TuiResult[];
  /** The example gateway under autocannon (`--only gateway`). */
  readonly gateway: GatewayResult[];
  /** q.backup() while 64 callers write (`--only backup`). */
  readonly backup: BackupResult[];
  readonly goals: GoalResult[];
}

export interface GoalResult {
  readonly goal: string;
  readonly measured: string;
  readonly met: boolean;
}
