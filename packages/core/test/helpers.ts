import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach } from 'vitest';
import { openWriteQueue } from '@litescribe/core';
import type { WriteQueue, WriteQueueOptions } from '@litescribe/core';
import { procStatFields } from '@litescribe/writer-worker/link';

export const MESSAGES_SCHEMA = `
  CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY,
    session_id TEXT NOT NULL,
    seq INTEGER,
    content TEXT NOT NULL UNIQUE
  );`;

export const PROCEDURES = new URL('./fixtures/procedures.mjs', import.meta.url);

export function fixture(name: string): string {
  return fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

/** A fresh temporary folder, removed after the test. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'litescribe-test-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Opens a queue on a fresh file with the messages table and test procedures; destroyed after the test. */
export async function openTestQueue(options: Partial<WriteQueueOptions> = {}): Promise<{ q: WriteQueue; path: string }> {
  const path = options.path ?? join(tempDir(), 'state.db');
  const q = await openWriteQueue({ setup: MESSAGES_SCHEMA, procedures: PROCEDURES, ...options, path });
  cleanups.push(() => q.destroy());
  return { q, path };
}

/** A read-only connection for checking what is on disk; closed after the test. */
export function reader(path: string): Database.Database {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  cleanups.push(() => db.close());
  return db;
}

export function countRows(path: string, where = '1'): number {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare(`SELECT count(*) AS n FROM messages WHERE ${where}`).get() as { n: number }).n;
  } finally {
    db.close();
  }
}

export interface Child {
  readonly proc: ChildProcess;
  /** Resolves with the first stdout line that matches. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  readonly lines: string[];
  /** Resolves with the exit code (or signal name). */
  readonly exited: Promise<number | string>;
}

/** Spawns `node fixture args…`; killed after the test if still running. */
export function spawnFixture(name: string, args: readonly string[] = [], env: Readonly<Record<string, string>> = {}): Child {
  const proc = spawn(process.execPath, [fixture(name), ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  const lines: string[] = [];
  const listeners: Array<() => void> = [];
  let buffered = '';
  proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    const parts = buffered.split('\n');
    buffered = parts.pop()!;
    lines.push(...parts);
    for (const l of listeners.slice()) l();
  });
  let stderr = '';
  proc.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  // 'close', not 'exit': 'exit' can come before the last of the child's stdout has been read, and
  // callers look at `lines` once `exited` resolves.
  const exited = new Promise<number | string>((resolve) =>
    proc.on('close', (code, signal) => {
      if (code !== 0 && stderr !== '') process.stderr.write(`[${name}] ${stderr}\n`);
      resolve(code ?? signal ?? -1);
    }),
  );
  cleanups.push(() => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  });
  return {
    proc,
    lines,
    exited,
    waitForLine(pattern, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          const hit = lines.find((l) => pattern.test(l));
          if (hit === undefined) return false;
          resolve(hit);
          return true;
        };
        if (check()) return;
        const timer = setTimeout(() => reject(new Error(`${name}: no line matching ${pattern} in ${timeoutMs} ms; got ${JSON.stringify(lines)} ${stderr}`)), timeoutMs);
        const listener = (): void => {
          if (check()) {
            clearTimeout(timer);
            listeners.splice(listeners.indexOf(listener), 1);
          }
        };
        listeners.push(listener);
        void exited.then(() => setTimeout(() => {
          if (!check()) {
            clearTimeout(timer);
            reject(new Error(`${name} exited before printing ${pattern}; got ${JSON.stringify(lines)} ${stderr}`));
          }
        }, 50));
      });
    },
  };
}

/** Settles every promise, returning outcomes in order. */
export async function settleAll<T>(promises: Array<Promise<T>>): Promise<Array<PromiseSettledResult<T>>> {
  return Promise.allSettled(promises);
}

/** Waits for `check()` to hold, looking every 10 ms; fails after `timeoutMs` naming `what`. */
export async function until(check: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The state letter of a process from /proc (`T` once it is stopped), or null once it is gone. */
export function processStateOf(pid: number): string | null {
  return procStatFields(pid)?.[0] ?? null;
}
