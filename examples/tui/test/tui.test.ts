import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, expect, test } from 'vitest';

// A real terminal: tmux runs the program in a pane; keys go in with send-keys, the screen comes
// back with capture-pane.
const TUI = fileURLToPath(new URL('../tui.mjs', import.meta.url));
const session = `litescribe-tui-${process.pid}`;
const tmux = (...args: string[]): string => execFileSync('tmux', args, { encoding: 'utf8' });
const screen = (): string => tmux('capture-pane', '-p', '-t', session);
async function waitFor(pattern: RegExp, ms = 30_000): Promise<string> {
  const until = Date.now() + ms;
  for (;;) {
    const text = screen();
    if (pattern.test(text)) return text;
    if (Date.now() > until) throw new Error(`screen never showed ${pattern}:\n${text}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
let dir = '';
afterEach(() => {
  try {
    tmux('kill-session', '-t', session);
  } catch {
    // already gone: the program quit
  }
  rmSync(dir, { recursive: true, force: true });
});

test('in a real terminal: it saves what is typed, imports 50,000 lines while redrawing, and closes cleanly', async () => {
  dir = mkdtempSync(join(tmpdir(), 'litescribe-tui-'));
  const db = join(dir, 'chat.db');
  const file = join(dir, 'import.txt');
  writeFileSync(file, Array.from({ length: 50_000 }, (_, i) => `line ${i} ${'x'.repeat(150)}`).join('\n'));
  tmux('new-session', '-d', '-s', session, '-x', '120', '-y', '30', `${process.execPath} ${TUI} ${db}; sleep 5`);
  await waitFor(/litescribe chat/);
  tmux('send-keys', '-t', session, 'hello from tmux', 'Enter');
  await waitFor(/✓ me: hello from tmux/);
  const before = Number(/frames (\d+)/.exec(screen())![1]);
  tmux('send-keys', '-t', session, `/import ${file}`, 'Enter');
  await waitFor(/imported 50000 lines/);
  // The screen kept being redrawn meanwhile (the frame counter moved on).
  expect(Number(/frames (\d+)/.exec(screen())![1])).toBeGreaterThan(before);
  tmux('send-keys', '-t', session, '/quit', 'Enter');
  await waitFor(/closed: every message saved/);
  const rows = new Database(db, { readonly: true });
  expect(rows.prepare('SELECT count(*) FROM chat_lines').pluck().get()).toBe(50_001);
  expect(rows.prepare("SELECT text FROM chat_lines WHERE author = 'me'").pluck().get()).toBe('hello from tmux');
  rows.close();
}, 60_000);
