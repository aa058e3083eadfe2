// `npm run bench`: runs the suites, prints tables, writes bench-results/{results.json,chart.svg}.
// Its options: USAGE below (`npm run bench -- --help`).
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { BenchContext } from './bench-context.js';
import { judgeGoals } from './goals.js';
import { throughputChartSvg } from './report/chart.js';
import { benchmarksMarkdown } from './report/markdown.js';
import { buildTables, renderConsole } from './report/tables.js';
import type { BenchResults } from './results.js';
import { callerShapes } from './suites/caller-shapes.js';
import { commitStrategies } from './suites/commit-strategies.js';
import { contention } from './suites/contention.js';
import { failover } from './suites/failover.js';
import { liveness } from './suites/liveness.js';
import { hostile } from './suites/hostile.js';
import { postgres } from './suites/postgres.js';
import { tui } from './suites/tui.js';
import { gateway } from './suites/gateway.js';
import { backup } from './suites/backup.js';
import { micro } from './suites/micro.js';
import { multiProcess } from './suites/multi-process.js';
import { walReader } from './suites/wal-reader.js';

const SUITES = ['strategies', 'shapes', 'processes', 'wal', 'micro', 'contention', 'failover', 'liveness', 'hostile', 'postgres', 'tui', 'gateway', 'backup'] as const;
const DEFAULT_SUITES = SUITES.filter((s) => s !== 'contention' && s !== 'failover' && s !== 'liveness' && s !== 'hostile' && s !== 'postgres' && s !== 'tui' && s !== 'gateway' && s !== 'backup');
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

const USAGE = `usage: npm run bench -- [--smoke] [--only <suites>] [--docs] [--out <folder>]
  --smoke   a seconds-long version (CI runs it so the harness never rots)
  --only    comma-separated suites. The default set: ${DEFAULT_SUITES.join(', ')}.
            Not in it: contention (the retry-policy comparison behind docs/contention.md),
            failover (a shared writer's leader killed under load), liveness (its leader stopped
            with SIGSTOP under load, then SIGCONT), hostile (a stranger flooding the leader's
            socket), postgres (the same queue on a throwaway PostgreSQL server), tui (a 60 fps
            UI while rows are written), gateway (autocannon against examples/gateway), backup
            (q.backup() of a 200 MiB file while 64 callers write)
  --docs    also rewrite docs/benchmarks.md and docs/benchmarks-chart.svg from this run
  --out     where results.json and chart.svg go (default: bench-results/ in the repo)`;

/** The options, or the usage and exit: status 0 for --help, 2 for anything it cannot take. */
function parseOptions(): { smoke: boolean; only: string[]; docs: boolean; out: string } {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        smoke: { type: 'boolean', default: false },
        only: { type: 'string' },
        docs: { type: 'boolean', default: false },
        out: { type: 'string', default: join(repoRoot, 'bench-results') },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const only = values.only === undefined ? [...DEFAULT_SUITES] : values.only.split(',').map((s) => s.trim());
  const unknown = only.filter((s) => !(SUITES as readonly string[]).includes(s));
  if (unknown.length > 0) {
    console.error(`unknown suite ${unknown.map((s) => JSON.stringify(s)).join(', ')}; known: ${SUITES.join(', ')}`);
    process.exit(2);
  }
  return { smoke: values.smoke, only, docs: values.docs, out: values.out };
}
const values = parseOptions();
const only = values.only;
const want = (s: (typeof SUITES)[number]): boolean => only.includes(s);

const ctx = new BenchContext(values.smoke);
/** Runs one suite, then drops its files so their writeback does not slow the next one. */
async function suite<T>(run: (c: BenchContext) => Promise<T>): Promise<T> {
  const result = await run(ctx);
  ctx.discardFiles();
  return result;
}
const started = performance.now();
ctx.progress(`litescribe bench${values.smoke ? ' (smoke)' : ''}: ${only.join(', ')} — files in ${ctx.dir}`);
try {
  const mem = new Database(':memory:');
  const sqlite = mem.prepare('SELECT sqlite_version()').pluck().get() as string;
  mem.close();
  const partial: Omit<BenchResults, 'goals'> = {
    startedAt: new Date().toISOString(),
    machine: { cpus: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, platform: `${process.platform} ${process.arch}`, sqlite },
    smoke: values.smoke,
    strategies: want('strategies') ? await suite(commitStrategies) : [],
    ...(want('shapes') ? await suite(callerShapes) : { shapes: [], roundTrip: null }),
    scenarios: want('processes') ? await suite(multiProcess) : [],
    contention: want('contention') ? await suite(contention) : [],
    walReader: want('wal') ? await suite(walReader) : [],
    micro: want('micro') ? await suite(micro) : [],
    failover: want('failover') ? await suite(failover) : [],
    liveness: want('liveness') ? await suite(liveness) : [],
    hostile: want('hostile') ? await suite(hostile) : [],
    postgres: want('postgres') ? await suite(postgres) : [],
    tui: want('tui') ? await suite(tui) : [],
    gateway: want('gateway') ? await suite(gateway) : [],
    backup: want('backup') ? await suite(backup) : [],
  };
  const results: BenchResults = { ...partial, goals: judgeGoals(partial) };
  const tables = buildTables(results);
  const svg = await throughputChartSvg(results);
  mkdirSync(values.out, { recursive: true });
  writeFileSync(join(values.out, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(values.out, 'chart.svg'), svg);
  process.stdout.write(`\n${renderConsole(tables)}\n\n`);
  const seconds = (performance.now() - started) / 1000;
  if (values.docs) {
    writeFileSync(join(repoRoot, 'docs', 'benchmarks-chart.svg'), svg);
    writeFileSync(join(repoRoot, 'docs', 'benchmarks.md'), benchmarksMarkdown(results, tables, seconds));
    ctx.progress('wrote docs/benchmarks.md and docs/benchmarks-chart.svg');
  }
  ctx.progress(`done in ${seconds.toFixed(0)} s; raw results in ${join(values.out, 'results.json')}, chart in ${join(values.out, 'chart.svg')}`);
} finally {
  ctx.cleanup();
}
