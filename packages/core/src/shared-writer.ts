import { createServer } from 'node:net';
import type { Server } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { WriterConfig, WriterNotice, WriterReply, WriterTask } from '@litescribe/writer-worker';
import type { ShareAddress } from '@litescribe/writer-worker/link';
import { ShareRefusedError, WorkerExitedError, errorFromData } from './errors.js';
import { LeaderLink, LeaderProofError, NotHandedOverError } from './leader-link.js';
import type { JoinParams } from './leader-link.js';
import type { TaskRunner } from './task-runner.js';
import { WriterThread, sqliteWriterSpec } from './writer-thread.js';

/** The role a process plays for its database file. */
export type WriterRole = 'leader' | 'follower' | 'solo';

/** What opening found: the facts the queue keeps. */
export interface Opened {
  readonly sqliteVersion: string;
  readonly postgresVersion?: string;
  readonly procedures: readonly string[];
  readonly walBytes: number;
}

/** Where a shared writer reports what concerns the whole queue. */
export interface SharedWriterHooks {
  readonly onNotice: (notice: WriterNotice) => void;
  readonly onError: (err: Error) => void;
}

type Current = { readonly role: 'leader'; readonly runner: WriterThread } | { readonly role: 'follower'; readonly runner: LeaderLink };

/**
 * One writer per database file across the processes on this machine (`shareWriter: 'auto'`).
 *
 * The first process to open the file leads: its writer thread binds the file's socket and commits
 * every process's batches, group-committed together. The others follow: their tasks go to the
 * leader over the socket. When the leader goes (close, crash, kill -9), the next task of each
 * follower elects again: one of them binds the socket and leads, the others follow it.
 *
 * Outcomes are never guessed. A task the leader had and did not answer rejects with
 * `WorkerExitedError` (it may or may not have committed) and is never resent; a task that never
 * reached a leader, or that a closing leader sent back unrun, goes to the next leader.
 */
export class SharedWriter implements TaskRunner {
  readonly #config: WriterConfig;
  readonly #address: ShareAddress;
  readonly #join: Omit<JoinParams, 'setup'>;
  readonly #hooks: SharedWriterHooks;
  #current: Current | null = null;
  #role: WriterRole = 'follower';
  #electing: Promise<Current> | null = null;
  #destroyed = false;
  /** Leaders this process has seen come and go (elections after the first). */
  leaderChanges = 0;

  private constructor(config: WriterConfig, address: ShareAddress, join: Omit<JoinParams, 'setup'>, hooks: SharedWriterHooks) {
    this.#config = config;
    this.#address = address;
    this.#join = join;
    this.#hooks = hooks;
  }

  /** Elects (or joins) and runs `setup` through whoever leads. */
  static async open(config: WriterConfig & { share: ShareAddress }, join: Omit<JoinParams, 'setup'>, setup: readonly string[], hooks: SharedWriterHooks): Promise<{ writer: SharedWriter; opened: Opened }> {
    const writer = new SharedWriter(config, config.share, join, hooks);
    const { current, opened } = await writer.#elect(setup);
    writer.#use(current);
    return { writer, opened };
  }

  /** The role this process plays now (or played last, while it elects again). */
  get role(): WriterRole {
    return this.#role;
  }

  #use(current: Current): void {
    this.#current = current;
    this.#role = current.role;
  }

  async run(task: WriterTask): Promise<WriterReply> {
    if (task.kind === 'close') {
      // No election after this; destroy() then ends whatever answered the close.
      this.#destroyed = true;
      return this.#current === null ? { kind: 'closed', reports: [] } : this.#current.runner.run(task);
    }
    for (;;) {
      const current = await this.#ready();
      try {
        return await current.runner.run(task);
      } catch (err) {
        if (err instanceof NotHandedOverError) {
          this.#lost(current);
          continue; // nothing of it ran: the next leader takes it
        }
        if (err instanceof WorkerExitedError) this.#lost(current);
        throw err;
      }
    }
  }

  async destroy(): Promise<void> {
    this.#destroyed = true;
    const current = this.#current;
    this.#current = null;
    await current?.runner.destroy();
  }

  /** The leader in use, electing one first when the last one went. */
  #ready(): Promise<Current> {
    if (this.#current !== null) return Promise.resolve(this.#current);
    if (this.#destroyed) return Promise.reject(new WorkerExitedError('the write queue was destroyed'));
    this.#electing ??= this.#elect([]).then(
      ({ current }) => {
        this.#electing = null;
        if (this.#destroyed) {
          void current.runner.destroy();
          throw new WorkerExitedError('the write queue was destroyed');
        }
        this.leaderChanges += 1;
        this.#use(current);
        return current;
      },
      (err: unknown) => {
        this.#electing = null;
        throw err;
      },
    );
    return this.#electing;
  }

  /** Forgets a leader that is gone; the next task elects again. */
  #lost(current: Current): void {
    if (this.#current !== current) return;
    this.#current = null;
    // A crashed writer thread would be restarted by piscina as a writer that does not lead: end it.
    if (current.role === 'leader') void current.runner.destroy();
  }

  /**
   * Follows the leader if one answers, else tries to lead; when another process bound the socket
   * between the two, follows it. Gives up after `busyDeadlineMs`.
   */
  async #elect(setup: readonly string[]): Promise<{ current: Current; opened: Opened }> {
    const deadline = performance.now() + Math.max(this.#config.busyDeadlineMs, 1_000);
    let lastError: unknown = null;
    for (let attempt = 1; ; attempt++) {
      const left = deadline - performance.now();
      if (left <= 0) {
        throw new ShareRefusedError(`no leader could be elected or joined for ${this.#config.path} within ${Math.max(this.#config.busyDeadlineMs, 1_000)} ms${lastError === null ? '' : `: ${(lastError as Error).message}`}`, {
          cause: lastError,
        });
      }
      try {
        const link = await LeaderLink.connect(this.#address, { ...this.#join, setup }, left);
        if (link !== null) {
          const current: Current = { role: 'follower', runner: link };
          link.onEnd = () => this.#lost(current);
          return { current, opened: link.welcome };
        }
      } catch (err) {
        // A leader that is going away, or one that just replaced the token: try again. Anything
        // else (it refused this process's procedures or setup) is the caller's error.
        if (!(err instanceof NotHandedOverError || err instanceof LeaderProofError)) throw err;
        lastError = err;
        await sleep(1 + Math.random() * 4 * Math.min(attempt, 10));
        continue;
      }
      // Only one process at a time starts a writer to try to lead: when a leader dies, every
      // follower finds no leader at once, and all of them starting writer threads on 2 cores made
      // the failover slower. The others wait a moment and follow whoever won.
      const claim = await claimElection(this.#address.socketName);
      if (claim === null) {
        await sleep(2 + Math.random() * 3);
        continue;
      }
      let started: Awaited<ReturnType<typeof WriterThread.start>>;
      try {
        started = await WriterThread.start(sqliteWriterSpec(this.#config), setup, this.#hooks.onNotice, this.#hooks.onError);
      } finally {
        claim.close();
      }
      if (!('failed' in started)) return { current: { role: 'leader', runner: started.thread }, opened: started.opened };
      if (started.failed.code !== 'ERR_LEADER_EXISTS') throw errorFromData(started.failed);
      lastError = null;
      // Another process bound the socket first: follow it (after it has had a moment to listen).
      await sleep(Math.random() * 2);
    }
  }
}

/**
 * Binds the file's election name (an abstract socket beside the leader's, nobody connects to it)
 * from this thread: the process holding it is the one starting a writer to lead. Null when another
 * process holds it. The name goes with the process, so a claimer that dies releases it.
 */
function claimElection(socketName: string): Promise<Server | null> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => (err.code === 'EADDRINUSE' ? resolve(null) : reject(err)));
    server.listen(`${socketName}/election`, () => {
      server.unref();
      resolve(server);
    });
  });
}
