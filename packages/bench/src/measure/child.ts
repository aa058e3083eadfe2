import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** A child Node process running one of the bench's children/ scripts. */
export interface ChildRun {
  /** Resolves with its stdout lines once it exits 0; rejects otherwise. */
  readonly done: Promise<string[]>;
  /** Resolves when a stdout line equal to `line` appears. */
  readonly saw: (line: string) => Promise<void>;
  /** Sends a signal to the child. */
  readonly kill: (signal: NodeJS.Signals) => void;
  readonly pid: number;
}

export function runChild(script: string, args: readonly string[], env: Readonly<Record<string, string>> = {}, uid?: number): ChildRun {
  const file = fileURLToPath(new URL(`../children/${script}`, import.meta.url));
  const ids = uid === undefined ? {} : { uid, gid: uid, cwd: '/' };
  const proc = spawn(process.execPath, [file, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env }, ...ids });
  const lines: string[] = [];
  const waiters: Array<{ line: string; resolve: () => void }> = [];
  let buf = '';
  let stderr = '';
  proc.stdout.setEncoding('utf8').on('data', (c: string) => {
    buf += c;
    const parts = buf.split('\n');
    buf = parts.pop()!;
    for (const l of parts) {
      lines.push(l);
      for (const w of waiters.filter((x) => x.line === l)) w.resolve();
    }
  });
  proc.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const done = new Promise<string[]>((resolve, reject) =>
    // 'close', not 'exit': only then has every line of its stdout been read.
    proc.on('close', (code) => (code === 0 ? resolve(lines) : reject(new Error(`${script} exited ${code}: ${stderr.slice(-2000)}`)))),
  );
  return {
    done,
    kill: (signal) => proc.kill(signal),
    pid: proc.pid ?? 0,
    saw: (line) => (lines.includes(line) ? Promise.resolve() : new Promise((resolve) => waiters.push({ line, resolve }))),
  };
}
