import { createServer } from 'node:net';
import type { Server } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { WriterConfig, WriterNotice, WriterReply, WriterTask } from '@litescribe/writer-worker';
import type { ShareAddress } from '@litescribe/writer-worker/link';
import { ShareRefusedError, WorkerExitedError, errorFromData } from '../errors.js';
import { LeaderLink, LeaderProofError, LinkVersionError, NotHandedOverError, OwnTokenError } from './leader-link.js';
import type { JoinParams, LinkEnd } from './leader-link.js';
import type { TaskRunner } from '../task-runner.js';
import { WriterThread, sqliteWriterSpec } from '../writer-thread.js';

/** The role a process plays for its database file. */
export type WriterRole = 'leader' | 'follower' | 'solo';

/** Payload of the queue's `'role'` event: the process's role changed, and why. */
export interface RoleChange {
  readonly role: WriterRole;
  readonly previous: WriterRole;
  readonly reason: string;
}

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
  readonly onRole?: (change: RoleChange) => void;
}

type Current =
  | { readonly role: 'leader'; readonly runner: WriterThread }
  | { readonly role: 'follower'; readonly runner: LeaderLink }
  | { readonly role: 'solo'; readonly runner: WriterThread };

/**
 * How long a process tries to meet the others on a file before it writes on its own: a quarter of
 * `busyDeadlineMs`, at least 1 s and at most 5 s. An honest leader answers in milliseconds; a
 * name squatted by another user, or a leader that is stopped, never does.
 */
export function rendezvousMs(busyDeadlineMs: number): number {
  return Math.min(5_000, Math.max(1_000, busyDeadlineMs / 4));
}

/** How often a process writing on its own looks whether it could share again. */
const PROBE_EVERY_MS = 2_000;

/**
 * One writer per database file across the processes on this machine (`shareWriter: 'auto'`).
 *
 * The first process to open the file leads: its writer thread binds the file's socket and commits
 * every process's batches, group-committed together. The others follow: their tasks go to the
 * leader over the socket. When the leader goes (close, crash, kill -9), the next task of each
 * follower elects again: one of them binds the socket and leads, the others follow it.
 *
 * No process is ever left unable to write. When the meeting point cannot be used within
 * {@link rendezvousMs} — another user squats the name, the leader does not answer (stopped), it
 * speaks another protocol version, the token beside the file is damaged — the process writes
 * through a writer thread of its own (`'solo'`, as `shareWriter: 'off'`), says so (`'role'`
 * event), and looks again every few seconds; it rejoins, or leads, between two of its batches.
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
  /** Tasks handed to the current runner and not yet answered. */
  #running = 0;
  readonly #idleWaiters: Array<() => void> = [];
  /** Why the next election goes straight to a writer of its own (the leader stopped answering). */
  #soloNext: string | null = null;
  #probe: NodeJS.Timeout | null = null;
  #probing = false;
  /** A probe found the meeting point usable again: switch at the next quiet moment. */
  #rejoin = false;
  /** Leaders this process has seen come and go (elections after the first). */
  leaderChanges = 0;

  private constructor(config: WriterConfig, address: ShareAddress, join: Omit<JoinParams, 'setup'>, hooks: SharedWriterHooks) {
    this.#config = config;
    this.#address = address;
    this.#join = join;
    this.#hooks = hooks;
  }

  /**
   * Elects (or joins, or writes alone) and runs `setup` through whoever writes. `fellBack` is the
   * reason when it opened writing alone because sharing could not be used (no `'role'` event can
   * reach the queue's listeners before open resolves; the queue emits it just after).
   */
  static async open(
    config: WriterConfig & { share: ShareAddress },
    join: Omit<JoinParams, 'setup'>,
    setup: readonly string[],
    hooks: SharedWriterHooks,
  ): Promise<{ writer: SharedWriter; opened: Opened; fellBack: RoleChange | null }> {
    const writer = new SharedWriter(config, config.share, join, hooks);
    const { current, opened, reason } = await writer.#elect(setup);
    writer.#role = current.role;
    writer.#use(current, reason);
    return { writer, opened, fellBack: current.role === 'solo' ? { role: 'solo', previous: 'solo', reason } : null };
  }

  /** The role this process plays now (or played last, while it elects again). */
  get role(): WriterRole {
    return this.#role;
  }

  #use(current: Current, reason: string): void {
    const previous = this.#role;
    this.#current = current;
    this.#role = current.role;
    if (current.role === 'follower') current.runner.onEnd = (why) => this.#linkEnded(current, why);
    if (current.role === 'solo') this.#startProbing();
    else this.#stopProbing();
    if (previous !== current.role) this.#hooks.onRole?.({ role: current.role, previous, reason });
  }

  async run(task: WriterTask): Promise<WriterReply> {
    if (task.kind === 'close') {
      // No election after this; destroy() then ends whatever answered the close.
      this.#destroyed = true;
      this.#stopProbing();
      const current = this.#current ?? (await this.#electing?.catch(() => null)) ?? null;
      return current === null ? { kind: 'closed', reports: [] } : current.runner.run(task);
    }
    for (;;) {
      const current = await this.#ready();
      if (this.#current !== current) continue;
      if (current.role === 'solo' && this.#rejoin) {
        // Once the tasks it has are answered, close the writer (its final checkpoint) and meet
        // again; this task and any after it wait for that.
        this.#rejoin = false;
        this.#replace(
          this.#idle()
            .then(() => current.runner.run({ kind: 'close' }))
            .then(
              () => current.runner.destroy(),
              () => current.runner.destroy(),
            ),
        );
        continue;
      }
      this.#running += 1;
      try {
        return await current.runner.run(task);
      } catch (err) {
        if (err instanceof NotHandedOverError) {
          this.#lost(current);
          continue; // nothing of it ran: the next leader takes it
        }
        if (err instanceof WorkerExitedError) this.#lost(current);
        throw err;
      } finally {
        this.#running -= 1;
        if (this.#running === 0) for (const wake of this.#idleWaiters.splice(0)) wake();
      }
    }
  }

  async destroy(): Promise<void> {
    this.#destroyed = true;
    this.#stopProbing();
    const current = this.#current;
    this.#current = null;
    await current?.runner.destroy();
  }

  /** Resolves once no task is with the current runner. */
  #idle(): Promise<void> {
    return this.#running === 0 ? Promise.resolve() : new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** The runner in use, electing one first when the last one went. */
  #ready(): Promise<Current> {
    if (this.#current !== null) return Promise.resolve(this.#current);
    if (this.#electing !== null) return this.#electing;
    if (this.#destroyed) return Promise.reject(new WorkerExitedError('the write queue was destroyed'));
    return this.#replace(Promise.resolve());
  }

  /** Forgets the current runner and elects once `before` is done. */
  #replace(before: Promise<void>): Promise<Current> {
    this.#current = null;
    const electing = before
      .then(() => this.#elect([]))
      .then(
        ({ current, reason }) => {
          this.#electing = null;
          if (this.#destroyed) {
            void current.runner.destroy();
            throw new WorkerExitedError('the write queue was destroyed');
          }
          this.leaderChanges += 1;
          this.#use(current, reason);
          return current;
        },
        (err: unknown) => {
          this.#electing = null;
          throw err;
        },
      );
    this.#electing = electing;
    return electing;
  }

  /** Forgets a runner that is gone; the next task elects again. */
  #lost(current: Current): void {
    if (this.#current !== current) return;
    this.#current = null;
    // A crashed writer thread would be restarted by piscina as a writer that does not lead: end it.
    if (current.role !== 'follower') void current.runner.destroy();
  }

  #linkEnded(current: Current, why: LinkEnd): void {
    if (why === 'unresponsive') this.#soloNext = `the leader process ${(current.runner as LeaderLink).welcome.leaderPid} stopped answering`;
    this.#lost(current);
  }

  /**
   * A writer thread of this process (leader or solo) died with nothing in hand. Without this, a
   * leader whose thread crashed would keep its role while nobody listens, and the next process to
   * open the file would lead beside it: it is forgotten, and a new election starts at once.
   */
  #threadFailed(thread: WriterThread, err: Error): void {
    this.#hooks.onError(err);
    const current = this.#current;
    if (current === null || current.runner !== thread) return;
    this.#lost(current);
    if (!this.#destroyed) void this.#ready().catch((e: unknown) => this.#hooks.onError(e as Error));
  }

  #startProbing(): void {
    if (this.#probe !== null || this.#destroyed) return;
    this.#probe = setInterval(() => {
      if (this.#probing || this.#rejoin) return;
      this.#probing = true;
      void LeaderLink.probe(this.#address, rendezvousMs(this.#config.busyDeadlineMs)).then((found) => {
        this.#probing = false;
        if (found !== 'unusable' && this.#current?.role === 'solo') this.#rejoin = true;
      });
    }, PROBE_EVERY_MS);
    this.#probe.unref();
  }

  #stopProbing(): void {
    if (this.#probe !== null) clearInterval(this.#probe);
    this.#probe = null;
    this.#rejoin = false;
  }

  async #startThread(config: WriterConfig, setup: readonly string[]): ReturnType<typeof WriterThread.start> {
    let thread: WriterThread | null = null;
    const started = await WriterThread.start(sqliteWriterSpec(config), setup, this.#hooks.onNotice, (err) => {
      if (thread === null) this.#hooks.onError(err);
      else this.#threadFailed(thread, err);
    });
    if (!('failed' in started)) thread = started.thread;
    return started;
  }

  /** A writer thread of this process's own, sharing with nobody. */
  async #solo(setup: readonly string[], reason: string): Promise<{ current: Current; opened: Opened; reason: string }> {
    const started = await this.#startThread({ ...this.#config, share: null }, setup);
    if ('failed' in started) throw errorFromData(started.failed);
    return { current: { role: 'solo', runner: started.thread }, opened: started.opened, reason };
  }

  /**
   * Follows the leader if one answers, else tries to lead; when another process bound the socket
   * between the two, follows it. When none of that works within {@link rendezvousMs}, writes alone.
   */
  async #elect(setup: readonly string[]): Promise<{ current: Current; opened: Opened; reason: string }> {
    if (this.#soloNext !== null) {
      const why = this.#soloNext;
      this.#soloNext = null;
      return this.#solo(setup, `${why}: writing through a writer of this process's own until it answers again`);
    }
    const budget = rendezvousMs(this.#config.busyDeadlineMs);
    const deadline = performance.now() + budget;
    let lastError: unknown = null;
    const alone = (why: string): Promise<{ current: Current; opened: Opened; reason: string }> =>
      this.#solo(setup, `${why}: writing through a writer of this process's own (as shareWriter 'off'); it looks again every ${PROBE_EVERY_MS / 1000} s`);
    for (let attempt = 1; ; attempt++) {
      const left = deadline - performance.now();
      if (left <= 0) {
        return alone(`no leader could be elected or joined for ${this.#config.path} within ${budget} ms${lastError === null ? '' : ` (${(lastError as Error).message})`}`);
      }
      try {
        const link = await LeaderLink.connect(this.#address, { ...this.#join, setup }, left, Math.max(1_000, this.#config.busyDeadlineMs));
        if (link !== null) return { current: { role: 'follower', runner: link }, opened: link.welcome, reason: `joined the leader process ${link.welcome.leaderPid}` };
      } catch (err) {
        // Another protocol version, or this process's own token file unusable: no retry mends either.
        if (err instanceof LinkVersionError || err instanceof OwnTokenError) return alone(err.message);
        // A leader that is going away, one that just replaced the token, one that does not answer,
        // or a squatter: try again until the budget is spent. Anything else (it refused this
        // process's procedures or setup) is the caller's error.
        if (!(err instanceof NotHandedOverError || err instanceof LeaderProofError || err instanceof ShareRefusedError)) throw err;
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
        started = await this.#startThread(this.#config, setup);
      } finally {
        claim.close();
      }
      if (!('failed' in started)) return { current: { role: 'leader', runner: started.thread }, opened: started.opened, reason: 'leads: no other process did' };
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
    // Anyone can connect to an abstract name; this one is never used, so whoever does is cut off.
    server.on('connection', (socket) => socket.destroy());
    server.once('error', (err: NodeJS.ErrnoException) => (err.code === 'EADDRINUSE' ? resolve(null) : reject(err)));
    server.listen(`${socketName}/election`, () => {
      server.unref();
      resolve(server);
    });
  });
}
