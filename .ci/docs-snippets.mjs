// The docs test: every code block of README.md and of each package's README runs as written, in a
// fresh project (`npm init -y`, CommonJS by default, as a newcomer's) that installs litescribe the
// way the README says: from the tarballs `npm run pack` writes.
//
//   node .ci/docs-snippets.mjs            # from the checkout's root, after `npm ci` (it packs first)
//   DOCS_VERBOSE=1 node .ci/docs-snippets.mjs   # and print what each block printed
//
// Each fenced block of code (js, ts, sh, …) needs a comment on the line before it saying how it is
// checked; a block without one fails the test, so a new snippet cannot go unchecked:
//   <!-- snippet: run app.mts -->        write the block to app.mts and run `node app.mts` (must exit 0)
//   <!-- snippet: run app.mts postgres --> the same, with DATABASE_URL set to a throwaway server
//   <!-- snippet: file procs.mjs -->     write it as a file the README's other blocks use (written first)
//   <!-- snippet: sh -->                 run it with bash; `/path/to/litescribe` stands for this checkout
//   <!-- snippet: skip <reason> -->      not run; the reason is required
// Blocks run in document order, each README in a folder of its own inside the project (the root
// README's is the project itself, so its install commands install for all). Every run has a
// deadline: a block that hangs fails.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const CODE = new Set(['js', 'mjs', 'cjs', 'ts', 'mts', 'cts', 'sh', 'bash', 'json']);
const RUN_MS = 180_000;

/** The fenced code blocks of one markdown file, each with its annotation. */
function blocks(file) {
  const lines = readFileSync(file, 'utf8').split('\n');
  const found = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w*)\s*$/.exec(lines[i]);
    if (open === null) continue;
    const end = lines.findIndex((l, k) => k > i && /^```\s*$/.test(l));
    if (end < 0) throw new Error(`${relative(root, file)}:${i + 1}: a code block that is never closed`);
    let k = i - 1;
    while (k >= 0 && lines[k].trim() === '') k--;
    const note = k >= 0 ? /^<!--\s*snippet:\s*(.*?)\s*-->$/.exec(lines[k].trim()) : null;
    found.push({ file, line: i + 1, lang: open[1], body: lines.slice(i + 1, end).join('\n') + '\n', note: note?.[1] ?? null });
    i = end;
  }
  return found;
}

/** What to do with a block: `{ mode, name?, postgres?, reason? }`, or an error message. */
function plan(block) {
  const where = `${relative(root, block.file)}:${block.line}`;
  if (block.note === null) {
    if (!CODE.has(block.lang)) return { mode: 'text' };
    return { error: `${where}: a \`\`\`${block.lang} block with no <!-- snippet: run|file|sh|skip … --> line before it` };
  }
  const [mode, ...rest] = block.note.split(/\s+/);
  if (mode === 'skip') return rest.length > 0 ? { mode, reason: rest.join(' ') } : { error: `${where}: "snippet: skip" needs a reason` };
  if (mode === 'sh') return { mode };
  if ((mode === 'run' || mode === 'file') && rest[0] !== undefined && /^[\w.-]+$/.test(rest[0])) {
    const extra = rest.slice(1);
    if (extra.some((w) => w !== 'postgres')) return { error: `${where}: unknown words in "snippet: ${block.note}"` };
    return { mode, name: rest[0], postgres: extra.includes('postgres') };
  }
  return { error: `${where}: cannot read "snippet: ${block.note}"` };
}

function runCommand(command, args, cwd, env) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => {
      out += `\n[docs test: still running after ${RUN_MS / 1000} s: killed]`;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {}
    }, RUN_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ ok: code === 0, out, status: signal ?? code });
    });
  });
}

const files = [join(root, 'README.md'), ...readdirSync(join(root, 'packages')).map((p) => join(root, 'packages', p, 'README.md')).filter(existsSync)];
const all = files.flatMap((f) => blocks(f).map((b) => ({ ...b, plan: plan(b) })));
const problems = all.filter((b) => b.plan.error).map((b) => b.plan.error);
if (problems.length > 0) {
  console.error(`docs test: ${problems.length} block(s) cannot be checked:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}

// The tarballs the README's install commands name.
execFileSync('bash', [join(root, 'scripts/pack.sh')], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
const work = mkdtempSync(join(tmpdir(), 'litescribe-docs-'));
const app = join(work, 'app');
mkdirSync(app);
execFileSync('npm', ['init', '-y'], { cwd: app, stdio: 'ignore' });

let cluster = null;
async function databaseUrl() {
  if (cluster === null) {
    const { startCluster } = await import(join(root, 'packages/pg-cluster/dist/index.js'));
    cluster = await startCluster();
  }
  return cluster.url;
}

let failed = 0;
const results = [];
try {
  for (const file of files) {
    const mine = all.filter((b) => b.file === file);
    const rel = relative(root, file);
    const dir = rel === 'README.md' ? app : join(app, dirname(rel).replaceAll('/', '-'));
    mkdirSync(dir, { recursive: true });
    for (const b of mine) if (b.plan.mode === 'file') writeFileSync(join(dir, b.plan.name), b.body);
    for (const b of mine) {
      const where = `${rel}:${b.line}`;
      const { mode } = b.plan;
      if (mode === 'text' || mode === 'file') {
        if (mode === 'file') results.push(`file  ${where} -> ${b.plan.name}`);
        continue;
      }
      if (mode === 'skip') {
        results.push(`skip  ${where} (${b.plan.reason})`);
        continue;
      }
      let outcome;
      if (mode === 'sh') {
        const script = `set -euo pipefail\n${b.body.replaceAll('/path/to/litescribe', root)}`;
        outcome = await runCommand('bash', ['-c', script], dir, {});
      } else {
        writeFileSync(join(dir, b.plan.name), b.body);
        const env = b.plan.postgres ? { DATABASE_URL: await databaseUrl() } : {};
        outcome = await runCommand(process.execPath, [b.plan.name], dir, env);
      }
      results.push(`${outcome.ok ? 'ok   ' : 'FAIL '} ${where} (${mode}${b.plan.name ? ` ${b.plan.name}` : ''})`);
      if (process.env.DOCS_VERBOSE) console.log(`--- ${where}:\n${outcome.out.trim()}`);
      if (!outcome.ok) {
        failed += 1;
        console.error(`\n--- ${where} (${b.lang}) exited with ${outcome.status}:\n${b.body}--- output:\n${outcome.out.trim()}\n`);
      }
    }
  }
} finally {
  await cluster?.remove();
  rmSync(work, { recursive: true, force: true });
}
console.log(results.join('\n'));
const ran = results.filter((r) => /^(ok|FAIL)/.test(r)).length;
console.log(`docs test: ${ran} blocks run, ${failed} failed, ${results.filter((r) => r.startsWith('skip')).length} skipped with a reason (Node ${process.versions.node})`);
process.exit(failed > 0 ? 1 : 0);
