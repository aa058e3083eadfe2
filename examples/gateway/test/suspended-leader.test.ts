import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, expect, test } from 'vitest';
import { spawnGateway } from '../spawn-server.mjs';

// The seed's freeze, as a person meets it: the terminal chat (examples/tui) opened the file first
// and leads its shared writer; the gateway follows. The person presses Ctrl-Z in the chat's
// terminal (tmux, an interactive shell with job control). The gateway must keep answering POSTs.
const TUI = fileURLToPath(new URL('../../tui/tui.mjs', import.meta.url));
const session = `litescribe-suspend-${process.pid}`;
const tmux = (...args: string[]): string => execFileSync('tmux', args, { encoding: 'utf8' });
const screen = (): string => tmux('capture-pane', '-p', '-t', session);
async function until<T>(check: () => T | undefined | false, what: string, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; screen:\n${screen()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
/** The state letter of a process (`T` when stopped), or null once it is gone. */
function stateOf(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] ?? null;
  } catch {
    return null;
  }
}

let dir = '';
const stops: Array<() => unknown> = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
  try {
    tmux('kill-session', '-t', session);
  } catch {
    // already gone
  }
  rmSync(dir, { recursive: true, force: true });
});

test('the chat leading the file is suspended with Ctrl-Z in a real terminal: the gateway keeps answering POSTs, and after fg both carry on', async () => {
  dir = mkdtempSync(join(tmpdir(), 'litescribe-suspend-'));
  const db = join(dir, 'shared.db');
  tmux('new-session', '-d', '-s', session, '-x', '120', '-y', '30');
  tmux('send-keys', '-t', session, `${process.execPath} ${TUI} ${db}`, 'Enter');
  await until(() => /litescribe chat/.test(screen()), 'the chat on screen');
  const tuiPid = Number(execFileSync('pgrep', ['-f', `tui.mjs ${db}`], { encoding: 'utf8' }).trim().split('\n')[0]);
  const gateway = await spawnGateway({ DB: db });
  stops.push(() => gateway.stop());
  expect(gateway.role).toBe('follower');
  const post = async (content: string): Promise<{ content: string; status: number; code?: string; ms: number }> => {
    const started = performance.now();
    const r = await fetch(`${gateway.url}/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sessionId: 'g', role: 'user', content }) });
    const body = (await r.json()) as { code?: string };
    return { content, status: r.status, ms: performance.now() - started, ...(body.code === undefined ? {} : { code: body.code }) };
  };
  const before = await Promise.all(Array.from({ length: 20 }, (_, i) => post(`before-${i}`)));
  expect(before.map((r) => r.status)).toEqual(before.map(() => 201));

  tmux('send-keys', '-t', session, 'C-z');
  await until(() => stateOf(tuiPid) === 'T', 'the chat stopped');
  await until(() => /Stopped/.test(screen()), "the shell's job-control message");
  // While the leader is stopped, every POST is answered within a bound: the gateway gives up on
  // the leader and writes through a writer of its own. The writes it had already handed to the
  // stopped leader are in doubt (500, ERR_WORKER_EXITED: the leader may still commit them when it
  // resumes); every other one is acknowledged.
  const during = await Promise.all(Array.from({ length: 50 }, (_, i) => post(`during-${i}`)));
  const inDoubt = during.filter((r) => r.status !== 201);
  expect(inDoubt.every((r) => r.status === 500 && r.code === 'ERR_WORKER_EXITED')).toBe(true);
  expect(inDoubt.length).toBeLessThan(during.length / 2);
  expect(Math.max(...during.map((r) => r.ms))).toBeLessThan(20_000);
  expect(stateOf(tuiPid)).toBe('T');

  tmux('send-keys', '-t', session, 'fg', 'Enter');
  await until(() => stateOf(tuiPid) !== 'T' && /resumed/.test(screen()), 'the chat resumed and redrawn');
  tmux('send-keys', '-t', session, 'after fg', 'Enter');
  await until(() => /✓ me: after fg/.test(screen()), 'the chat saving again');
  const after = await Promise.all(Array.from({ length: 20 }, (_, i) => post(`after-${i}`)));
  expect(after.map((r) => r.status)).toEqual(after.map(() => 201));

  expect(await gateway.stop()).toBe(0);
  stops.length = 0;
  tmux('send-keys', '-t', session, '/quit', 'Enter');
  await until(() => /closed: every message saved/.test(screen()), 'the chat closing');
  const rows = new Database(db, { readonly: true });
  const stored = rows.prepare("SELECT content FROM messages WHERE session_id = 'g'").pluck().all() as string[];
  const contents = new Set(stored);
  expect(contents.size).toBe(stored.length); // nothing committed twice
  for (const r of [...before, ...during, ...after]) if (r.status === 201) expect(contents.has(r.content), r.content).toBe(true);
  expect(rows.prepare("SELECT text FROM chat_lines WHERE author = 'me'").pluck().all()).toEqual(['after fg']);
  expect(rows.pragma('integrity_check', { simple: true })).toBe('ok');
  rows.close();
}, 90_000);
