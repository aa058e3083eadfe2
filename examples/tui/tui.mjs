#!/usr/bin/env node
// A terminal chat on litescribe, in raw ANSI (no library: a full redraw per frame is a few
// string joins). It redraws at 60 fps — a clock, a spinner and the frame-gap figures show whether
// the event loop kept up — while it saves every message and imports files of lines.
//
//   node tui.mjs chat.db        type and press Enter to save; /import <file> loads a file's lines
//                               in one runMany(); /quit or Ctrl-C closes the queue and exits;
//                               Ctrl-Z suspends it (fg resumes). Its table is chat_lines, so it can
//                               share a file with other programs (the gateway example's messages).
import { readFile } from 'node:fs/promises';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { openWriteQueue } from '@litescribe/core';

const path = process.argv[2] ?? 'chat.db';
const q = await openWriteQueue({
  path,
  setup: 'CREATE TABLE IF NOT EXISTS chat_lines (id INTEGER PRIMARY KEY, author TEXT NOT NULL, text TEXT NOT NULL, at INTEGER NOT NULL)',
});
const INSERT = 'INSERT INTO chat_lines (author, text, at) VALUES (?, ?, ?)';

/** The transcript on screen: newest last; `saved` flips when the write has committed. */
const transcript = [];
let input = '';
let status = `saved ${(await q.get('SELECT count(*) AS n FROM chat_lines')).n} messages before`;
let frames = 0;
let slowFrames = 0;
let maxGap = 0;
let lastFrame = performance.now();
const gaps = [];
const spinner = '⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏';

function say(author, text) {
  const entry = { author, text, saved: false };
  transcript.push(entry);
  if (transcript.length > 500) transcript.shift();
  q.run(INSERT, [author, text, Date.now()]).then(
    () => (entry.saved = true),
    (err) => (entry.text += `  [not saved: ${err.message}]`),
  );
}

async function importFile(file) {
  // The file is read off this thread, and turned into rows a slice per turn: the app's own work
  // must not hold a frame either (read, split and map in one go took ~30 ms for 50,000 lines).
  const at = Date.now();
  const started = performance.now();
  let text;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    status = `import failed: ${err.message}`;
    return;
  }
  await nextTurn();
  const lines = text.split('\n');
  const rows = [];
  for (let i = 0; i < lines.length; i += 5_000) {
    await nextTurn();
    for (const line of lines.slice(i, i + 5_000)) if (line !== '') rows.push(['import', line, at]);
  }
  status = `importing ${rows.length} lines…`;
  // One call for the whole file: its rows are handed over a slice per turn, so frames keep coming.
  q.runMany(INSERT, rows).then(
    (r) => (status = `imported ${r.changes} lines in ${Math.round(performance.now() - started)} ms`),
    (err) => (status = `import failed: ${err.message}`),
  );
}

function frame() {
  const now = performance.now();
  const gap = now - lastFrame;
  lastFrame = now;
  frames += 1;
  if (frames > 1) {
    gaps.push(gap);
    if (gaps.length > 600) gaps.shift();
    if (gap > maxGap) maxGap = gap;
    if (gap > 33) slowFrames += 1;
  }
  const cols = process.stdout.columns || 80;
  const rows = process.stdout.rows || 24;
  const sorted = [...gaps].sort((a, b) => a - b);
  const p99 = sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))];
  const { queueDepth } = q.stats();
  const clock = new Date().toISOString().slice(11, 23);
  const header = `${spinner[frames % spinner.length]} litescribe chat  ${clock}  frames ${frames}  gap p99 ${p99.toFixed(1)} ms  max ${maxGap.toFixed(1)} ms  >33ms ${slowFrames}`;
  const body = transcript.slice(-(rows - 4)).map((m) => `${m.saved ? '✓' : '…'} ${m.author}: ${m.text}`);
  while (body.length < rows - 4) body.unshift('');
  const lines = [header, ...body, `${status}  (queue ${queueDepth})`, `> ${input}`];
  const fit = (s) => (s.length > cols ? s.slice(0, cols) : s.padEnd(cols));
  process.stdout.write(`\x1b[H${lines.map(fit).join('\r\n')}`);
}

async function quit() {
  clearInterval(timer);
  process.stdout.write('\x1b[?25h\x1b[?1049l');
  await q.close();
  console.log(`closed: every message saved (${frames} frames drawn, ${slowFrames} over 33 ms, longest gap ${maxGap.toFixed(1)} ms)`);
  process.exit(0);
}

// Raw mode turns the terminal's own Ctrl-Z handling off (it arrives as a key): give the terminal
// back, then stop as the terminal would have stopped us. Other processes sharing the file's writer
// with this one do not wait for it meanwhile (see "When sharing cannot be used" in the README).
function suspend() {
  clearInterval(timer);
  process.stdin.setRawMode?.(false);
  process.stdout.write('\x1b[?25h\x1b[?1049l');
  process.kill(process.pid, 'SIGTSTP');
}
process.on('SIGCONT', () => {
  process.stdin.setRawMode?.(true);
  process.stdout.write('\x1b[?1049h\x1b[?25l\x1b[2J');
  lastFrame = performance.now(); // the time spent stopped is not a slow frame
  status = 'resumed';
  clearInterval(timer);
  timer = setInterval(frame, 1000 / 60);
});

process.stdout.write('\x1b[?1049h\x1b[?25l\x1b[2J');
let timer = setInterval(frame, 1000 / 60);
process.stdin.setRawMode?.(true);
process.stdin.setEncoding('utf8');
process.stdin.on('data', (keys) => {
  for (const key of keys) {
    if (key === '\u0003') return void quit();
    if (key === '\u001a') return void suspend();
    if (key === '\r' || key === '\n') {
      const line = input.trim();
      input = '';
      if (line === '/quit') return void quit();
      if (line.startsWith('/import ')) void importFile(line.slice(8).trim());
      else if (line !== '') say('me', line);
    } else if (key === '\u007f' || key === '\b') {
      input = input.slice(0, -1);
    } else if (key >= ' ') {
      input += key;
    }
  }
});
