import Table from 'cli-table3';
import type { BenchResults, StrategyResult } from '../results.js';

const MiB = 1024 * 1024;
const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** A rendered table: a title, a header row and body rows of strings. */
export interface TableData {
  readonly title: string;
  readonly head: readonly string[];
  readonly rows: ReadonlyArray<readonly string[]>;
}

function strategyRows(rows: readonly StrategyResult[], withRatio: boolean): string[][] {
  return rows.map((r) => [
    r.name,
    r.synchronous,
    fmt(r.opsPerSec),
    ...(withRatio ? [r.ratioToLimit === undefined ? '' : `${r.ratioToLimit.toFixed(2)}x`] : []),
    fmt(r.latency.p50, 3),
    fmt(r.latency.p99, 2),
    fmt(r.loopDelay.p99, 2),
    fmt(r.loopDelay.max, 1),
  ]);
}

/** Every table of a run, in report order. */
export function buildTables(r: BenchResults): TableData[] {
  const tables: TableData[] = [];
  const latencyHead = ['op latency p50 ms', 'op latency p99 ms', 'loop delay p99 ms', 'loop delay max ms'];
  tables.push({
    title: 'Commit strategies (same rows, same run)',
    head: ['strategy', 'sync', 'ops/s', 'vs raw limit', ...latencyHead],
    rows: strategyRows(r.strategies, true),
  });
  tables.push({
    title: 'Caller shapes (synchronous normal; CPU: every thread of the process)',
    head: ['shape', 'sync', 'ops/s', ...latencyHead, 'CPU µs per write'],
    rows: strategyRows(r.shapes, false).map((cells, i) => [...cells, r.shapes[i]!.cpuUsPerOp === undefined ? '' : fmt(r.shapes[i]!.cpuUsPerOp!, 1)]),
  });
  if (r.scenarios.length > 0) {
    const label = { before: 'before: main-thread BEGIN IMMEDIATE, 30 s busy timeout', after: 'after: litescribe, a writer per process', shared: 'shared: litescribe, one writer for the file' };
    tables.push({
      title: 'Many processes, one file (per-process worst / total)',
      head: ['processes', 'writes', 'think', 'variant', 'total ops/s', 'CPU µs per write', 'errors', 'worst p50 ms', 'worst p99 ms', 'slowest write ms', 'longest freeze ms', 'ops: fewest / most', 'WAL peak MiB'],
      rows: r.scenarios.map((s) => {
        const ops = s.perProcess.map((p) => p.ops);
        return [
          String(s.processes),
          s.workload === 'light' ? 'light (INSERT 200 B)' : 'session store',
          s.thinkMs > 0 ? `${s.thinkMs} ms` : 'none',
          s.workload === 'light' && s.variant === 'before' ? 'naive: main-thread BEGIN IMMEDIATE, 30 s busy timeout' : label[s.variant],
          fmt(s.opsPerSec),
          fmt(s.cpuUsPerWrite, 1),
          String(s.totalErrors),
          fmt(Math.max(...s.perProcess.map((p) => p.latency.p50)), 2),
          fmt(Math.max(...s.perProcess.map((p) => p.latency.p99)), 1),
          fmt(Math.max(...s.perProcess.map((p) => p.latency.max)), 0),
          fmt(Math.max(...s.perProcess.map((p) => p.loopDelayMax)), 1),
          (Math.min(...ops) / Math.max(...ops)).toFixed(2),
          fmt(s.walPeakBytes / MiB, 1),
        ];
      }),
    });
  }
  if (r.failover.length > 0) {
    tables.push({
      title: 'Leader killed with SIGKILL under load (followers writing back to back)',
      head: ['round', 'followers', 'kill → next ack, median ms', 'kill → next ack, worst ms', 'acknowledged', 'in doubt (rejected)', 'rows', 'integrity'],
      rows: r.failover.map((f, i) => [String(i + 1), String(f.followers), fmt(f.medianMs, 0), fmt(f.worstMs, 0), fmt(f.acknowledged), fmt(f.inDoubt), fmt(f.rows), f.integrity]),
    });
  }
  if (r.liveness.length > 0) {
    tables.push({
      title: 'Leader stopped with SIGSTOP under load, then SIGCONT (followers writing back to back)',
      head: ['followers', 'stopped s', 'busyDeadlineMs', 'slowest follower write ms', 'acked while stopped', 'in doubt', 'BusyTimeoutError', 'acknowledged', 'rows', 'lost', 'duplicates', 'leaders', 'integrity'],
      rows: r.liveness.map((l) => [String(l.followers), fmt(l.stoppedMs / 1000, 1), fmt(l.busyDeadlineMs), fmt(l.slowestWriteMs, 0), fmt(l.ackedWhileStopped), fmt(l.inDoubt), fmt(l.busy), fmt(l.acknowledged), fmt(l.rows), String(l.lost), String(l.duplicates), String(l.leaders), l.integrity]),
    });
  }
  if (r.hostile.length > 0) {
    tables.push({
      title: "A stranger flooding the leader's socket (junk frames, 1 GiB length prefixes, idle connections) while followers write",
      head: ['stranger', 'window s', 'its connections', 'follower writes before', 'follower writes during', 'during / before', 'leader RSS growth MiB', 'failed writes', 'leader role after'],
      rows: r.hostile.map((h) => [h.as, fmt(h.windowMs / 1000, 0), fmt(h.connections), fmt(h.followerWritesBefore), fmt(h.followerWritesDuring), fmt(h.followerWritesDuring / Math.max(1, h.followerWritesBefore), 2), fmt(h.leaderRssGrowthBytes / MiB, 1), String(h.failedWrites), h.leaderRole]),
    });
  }
  if (r.backup.length > 0) {
    tables.push({
      title: 'q.backup() while 64 callers write back to back (windows of the backup\'s length before and after)',
      head: ['file MiB', 'backup ms', 'ops/s before', 'ops/s during', 'ops/s after', 'during / around', 'longest gap before ms', 'longest gap during ms', 'longest gap after ms', 'WAL after MiB', 'integrity', 'missing'],
      rows: r.backup.map((b) => [fmt(b.fileBytes / MiB, 0), fmt(b.backupMs, 0), fmt(b.opsPerSecBefore), fmt(b.opsPerSecDuring), fmt(b.opsPerSecAfter), fmt(b.opsPerSecDuring / ((b.opsPerSecBefore + b.opsPerSecAfter) / 2), 2), fmt(b.longestGapBeforeMs, 0), fmt(b.longestGapDuringMs, 0), fmt(b.longestGapAfterMs, 0), fmt(b.walBytesAfter / MiB, 1), b.integrity, String(b.missing)]),
    });
  }
  if (r.gateway.length > 0) {
    const label = { litescribe: 'litescribe (@litescribe/fastify)', inline: 'better-sqlite3 inline', sqlite3: 'node-sqlite3' };
    tables.push({
      title: 'Gateway: POST /messages under autocannon, /health from a second client (loopback, one machine)',
      head: ['sync', 'connections', 'store', 'POST req/s (2xx)', 'POST p50 ms', 'POST p99 ms', 'non-2xx', 'errors', '/health answered', '/health p50 ms', '/health p99 ms', '/health max ms', 'rows'],
      rows: r.gateway.map((g) => [g.synchronous, String(g.connections), label[g.mode], fmt(g.requestsPerSec), fmt(g.latencyP50Ms, 1), fmt(g.latencyP99Ms, 1), String(g.non2xx), String(g.errors), fmt(g.healthAnswered), fmt(g.healthP50Ms, 1), fmt(g.healthP99Ms, 1), fmt(g.healthMaxMs, 0), fmt(g.rows)]),
    });
  }
  if (r.tui.length > 0) {
    tables.push({
      title: 'A terminal UI drawing at 60 fps while it saves (synchronous normal)',
      head: ['scenario', 'writes', 'rows', 'durable after ms', 'frames', 'gap p50 ms', 'gap p99 ms', 'gap max ms', 'gaps > 33 ms'],
      rows: r.tui.map((t) => [t.scenario === 'burst' ? 'burst (all at once)' : 'steady 2,000 rows/s', t.variant, fmt(t.rows), fmt(t.durableMs, 0), fmt(t.frames), fmt(t.p50, 1), fmt(t.p99, 1), fmt(t.max, 1), String(t.over33)]),
    });
  }
  if (r.postgres.length > 0) {
    const opt = (n: number | null, digits: number): string => (n === null ? '' : fmt(n, digits));
    tables.push({
      title: 'PostgreSQL: the same rows into one server (fsync on, loopback)',
      head: ['row', 'callers', 'ops/s', 'op latency p50 ms', 'op latency p99 ms', 'main thread µs/op', 'ops per transaction'],
      rows: r.postgres.map((p) => [p.name, p.callers, fmt(p.opsPerSec), opt(p.latencyP50Ms, 2), opt(p.latencyP99Ms, 1), fmt(p.mainThreadUsPerOp, 1), opt(p.opsPerTransaction, 0)]),
    });
  }
  if (r.contention.length > 0) {
    tables.push({
      title: 'Lock-retry policies under contention (think time 1 ms)',
      head: ['processes', 'policy', 'total ops/s', 'errors', 'median p99 ms', 'worst p99 ms', 'worst max ms (fairness)', 'ops: slowest / fastest process', 'lock retries', 'longest freeze ms'],
      rows: r.contention.map((s) => {
        const p99s = s.perProcess.map((p) => p.latency.p99).sort((a, b) => a - b);
        const ops = s.perProcess.map((p) => p.ops);
        return [
          String(s.processes),
          s.policy,
          fmt(s.opsPerSec),
          String(s.totalErrors),
          fmt(p99s[Math.floor(p99s.length / 2)]!, 1),
          fmt(p99s[p99s.length - 1]!, 1),
          fmt(Math.max(...s.perProcess.map((p) => p.latency.max)), 0),
          `${(Math.min(...ops) / Math.max(...ops)).toFixed(2)}`,
          fmt(s.perProcess.reduce((a, p) => a + p.busyRetries, 0)),
          fmt(Math.max(...s.perProcess.map((p) => p.loopDelayMax)), 1),
        ];
      }),
    });
  }
  if (r.walReader.length > 0) {
    tables.push({
      title: 'WAL under a reader that never lets go',
      head: ['checkpoint policy', 'written MiB', 'soft limit MiB', 'WAL peak MiB', 'peak / limit', 'escalations', 'reader txns'],
      rows: r.walReader.map((w) => [
        w.policy,
        fmt(w.bytesWritten / MiB, 1),
        fmt(w.softLimitBytes / MiB, 1),
        fmt(w.walPeakBytes / MiB, 1),
        `${(w.walPeakBytes / w.softLimitBytes).toFixed(2)}x`,
        String(w.escalations),
        String(w.readerTransactions),
      ]),
    });
  }
  if (r.micro.length > 0) {
    tables.push({
      title: 'Where the time goes, per op (tinybench)',
      head: ['step', 'thread', 'ns/op', '± %'],
      rows: r.micro.map((m) => [m.name, m.thread, fmt(m.nsPerOp), fmt(m.rme, 1)]),
    });
  }
  tables.push({ title: 'Goals', head: ['goal', 'measured', 'met'], rows: r.goals.map((g) => [g.goal, g.measured, g.met ? 'yes' : 'NO']) });
  return tables;
}

/** Renders the tables for a terminal. */
export function renderConsole(tables: readonly TableData[]): string {
  return tables
    .map((t) => {
      const table = new Table({ head: [...t.head], style: { head: [], border: [] } });
      for (const row of t.rows) table.push([...row]);
      return `${t.title}\n${table.toString()}`;
    })
    .join('\n\n');
}

/** Renders the tables as Markdown. */
export function renderMarkdown(tables: readonly TableData[]): string {
  const esc = (s: string): string => s.replace(/\|/g, '\\|');
  return tables
    .map((t) => [`### ${t.title}`, '', `| ${t.head.map(esc).join(' | ')} |`, `| ${t.head.map(() => '---').join(' | ')} |`, ...t.rows.map((r) => `| ${r.map(esc).join(' | ')} |`)].join('\n'))
    .join('\n\n');
}
