#!/usr/bin/env node
// litescribe-backup <database> <copy>: a consistent copy of a SQLite database, taken while other
// processes keep writing to it (see backupFile). Ctrl-C cancels and leaves nothing behind.
import { backupFile } from '../backup-file.js';

const args = process.argv.slice(2);
if (args.length !== 2 || args.some((a) => a === '' || a.startsWith('-'))) {
  process.stderr.write('usage: litescribe-backup <database> <copy>\n  writes a consistent copy of <database> to <copy> (replaced whole when complete)\n');
  process.exit(2);
}
const [source, destination] = args as [string, string];
const controller = new AbortController();
process.once('SIGINT', () => controller.abort(new Error('cancelled (SIGINT)')));
const tty = process.stderr.isTTY === true;
try {
  const done = await backupFile(source, destination, {
    signal: controller.signal,
    onProgress: (p) => {
      if (tty) process.stderr.write(`\r${((100 * p.pagesCopied) / Math.max(1, p.pagesTotal)).toFixed(0).padStart(3)}% of ${(p.bytesTotal / 1048576).toFixed(1)} MiB`);
    },
  });
  if (tty) process.stderr.write('\n');
  process.stdout.write(`copied ${done.bytes} bytes (${done.pages} pages) to ${done.path} in ${done.durationMs.toFixed(0)} ms\n`);
} catch (err) {
  if (tty) process.stderr.write('\n');
  process.stderr.write(`litescribe-backup: ${(err as Error).message}\n`);
  process.exitCode = 1;
}
