import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import type { SynchronousMode, WriterReply, WriterTask } from '@litescribe/writer-worker';
import { FrameDecoder, LINK_VERSION, ShareError, TokenFileError, encodeFrame, procStatFields, linkProof, proofMatches, readToken, replyProblem } from '@litescribe/writer-worker/link';
import type { Frame, LinkMessage, ShareAddress } from '@litescribe/writer-worker/link';
import { ShareRefusedError, WorkerExitedError, errorFromData } from '../errors.js';
import type { TaskRunner } from '../task-runner.js';

/** What a follower tells the leader when it joins. */
export interface JoinParams {
  readonly procedures: string | null;
  readonly setup: readonly string[];
  readonly synchronous: SynchronousMode;
}

/** What the leader answered the join with: the same facts a writer thread's `opened` gives. */
export interface Welcome {
  readonly sqliteVersion: string;
  readonly procedures: readonly string[];
  readonly walBytes: number;
  readonly leaderPid: number;
  readonly leaderStart: string | null;
}

/** A task that never reached a leader, or that a closing leader sent back unrun: safe to send to the next one. */
export class NotHandedOverError extends Error {
  override readonly name = 'NotHandedOverError';
}

/** The leader's answer did not prove it holds the token: whoever bound the socket is not a leader we trust. */
export class LeaderProofError extends Error {
  override readonly name = 'LeaderProofError';
}

/** This process's own token file is unusable (symbolic link, not owner-only, damaged): no retry mends it. */
export class OwnTokenError extends ShareRefusedError {}

/** The leader speaks another version of the link protocol: this process writes on its own instead. */
export class LinkVersionError extends Error {
  override readonly name = 'LinkVersionError';
}

/** Why a link ended: the leader closed it (or died), or stopped answering and this side gave up. */
export type LinkEnd = 'closed' | 'unresponsive';

/** Largest frame taken before the leader has proven itself: a challenge or a refusal is tiny, a welcome lists procedure names. */
const PRE_AUTH_FRAME_BYTES = 1024 * 1024;
/** After the proof: a reply carries one result per op (and procedures' values). */
const MAX_REPLY_FRAME_BYTES = 1024 * 1024 * 1024;
/** How often a link with tasks in flight looks at how long the leader has been silent. */
const SILENCE_CHECK_MS = 250;

interface InFlight {
  readonly task: WriterTask;
  readonly resolve: (reply: WriterReply) => void;
  readonly reject: (err: unknown) => void;
}

/**
 * The state letter of a process from `/proc/<pid>/stat` if it is the process that started at
 * `start` (not a reused pid, not another pid namespace's), else null. `T`: stopped (Ctrl-Z,
 * SIGSTOP), `t`: stopped by a debugger, `Z`/`X`: dead.
 */
export function processState(pid: number, start: string | null): string | null {
  if (start === null || pid <= 0) return null;
  const fields = procStatFields(pid);
  if (fields === null) return 'X';
  return fields[19] === start ? (fields[0] ?? null) : null;
}

/**
 * A follower's link to the leader: its tasks go over a local socket to the leader's writer thread,
 * which commits them in the same transactions as everyone else's. Lives on the follower's main
 * thread: socket I/O is asynchronous, and a follower then needs no writer thread of its own.
 *
 * It never waits on a leader without limit. While tasks are in flight and the leader has been
 * silent for a moment, it pings it and looks at the leader process's state: a stopped leader
 * (Ctrl-Z, SIGSTOP, a debugger) is given up at once, any other silence after `unresponsiveMs`.
 * Giving up rejects the tasks in flight as outcome-unknown (the leader may still commit them when
 * it resumes), never resends them.
 */
export class LeaderLink implements TaskRunner {
  readonly #socket: Socket;
  readonly #inFlight = new Map<number, InFlight>();
  readonly #unresponsiveMs: number;
  readonly #watch: NodeJS.Timeout;
  #nextId = 1;
  /** No task may be sent any more: the leader said bye, or the socket ended. */
  #closed = false;
  #lostWith: unknown = null;
  #end: LinkEnd = 'closed';
  /** When the leader was last heard from (or, if later, when the oldest task in flight was sent). */
  #heardAt = performance.now();
  #pinged = false;
  readonly welcome: Welcome;
  /** Called once when the link ends, for whatever reason. */
  onEnd: (why: LinkEnd) => void = () => undefined;

  private constructor(socket: Socket, decoder: FrameDecoder, welcome: Welcome, unresponsiveMs: number) {
    this.#socket = socket;
    this.welcome = welcome;
    this.#unresponsiveMs = unresponsiveMs;
    socket.on('data', (chunk: Buffer) => {
      this.#heardAt = performance.now();
      this.#pinged = false;
      let frames: Frame[];
      try {
        frames = decoder.push(chunk);
      } catch (err) {
        socket.destroy(err as Error);
        return;
      }
      for (const { msg } of frames) this.#onMessage(msg);
    });
    socket.on('error', (err) => {
      this.#lostWith = err;
    });
    socket.on('close', () => this.#onClose());
    socket.unref();
    this.#watch = setInterval(() => this.#checkSilence(), SILENCE_CHECK_MS);
    this.#watch.unref();
  }

  /**
   * Connects and joins. Resolves with null when no process listens (there is no leader); rejects
   * with {@link LeaderProofError} when whoever listens cannot prove it holds the token, with
   * {@link LinkVersionError} for a leader of another protocol version, with `ShareRefusedError`
   * when it does not answer within `timeoutMs`, and with the leader's typed error when it refuses
   * this process (procedures it cannot load, setup that fails).
   */
  static async connect(address: ShareAddress, join: JoinParams, timeoutMs: number, unresponsiveMs: number): Promise<LeaderLink | null> {
    const outcome = await handshake(address, timeoutMs, join);
    if (outcome === null) return null;
    if (outcome === 'proven') throw new Error('a join ended as a probe');
    const { socket, decoder, welcome, rest } = outcome;
    const link = new LeaderLink(socket, decoder, welcome, unresponsiveMs);
    // A leader closing right after the welcome may have sent its bye in the same chunk.
    for (const msg of rest) link.#onMessage(msg);
    return link;
  }

  /**
   * Asks whoever listens whether it is a leader this process can join, without joining: `'none'`
   * (nobody listens: this process may lead), `'leader'` (it proved it holds the token), or
   * `'unusable'` (a squatter, a stopped leader, another version, no answer within `timeoutMs`).
   */
  static async probe(address: ShareAddress, timeoutMs: number): Promise<'none' | 'leader' | 'unusable'> {
    try {
      const outcome = await handshake(address, timeoutMs, null);
      return outcome === null ? 'none' : 'leader';
    } catch {
      return 'unusable';
    }
  }

  /** Sends a task to the leader. `close` is answered here: a follower has no connection of its own to close. */
  run(task: WriterTask): Promise<WriterReply> {
    if (task.kind === 'close') {
      this.#endWhenAnswered();
      return Promise.resolve({ kind: 'closed', reports: [] });
    }
    if (this.#closed) return Promise.reject(new NotHandedOverError('the link to the leader has ended'));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#inFlight.set(id, { task, resolve, reject });
      // A task in flight keeps the process alive until it is answered; an idle link does not.
      if (this.#inFlight.size === 1) {
        this.#socket.ref();
        this.#heardAt = performance.now();
      }
      this.#socket.write(encodeFrame({ kind: 'task', id, task }));
    });
  }

  async destroy(): Promise<void> {
    clearInterval(this.#watch);
    this.#socket.destroy();
    if (!this.#socket.closed) await new Promise((resolve) => this.#socket.once('close', resolve));
  }

  /** Tasks sent and not yet answered. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  /** Ends the link once every task sent has its answer. */
  #endWhenAnswered(): void {
    this.#closed = true;
    if (this.#inFlight.size === 0) this.#socket.end();
  }

  #checkSilence(): void {
    if (this.#inFlight.size === 0 || this.#socket.destroyed) return;
    const silentMs = performance.now() - this.#heardAt;
    if (silentMs < SILENCE_CHECK_MS) return;
    const state = processState(this.welcome.leaderPid, this.welcome.leaderStart);
    if (state === 'T' || state === 't') {
      this.#giveUp(`is stopped (state ${state}: Ctrl-Z, SIGSTOP or a debugger)`);
    } else if (silentMs >= this.#unresponsiveMs) {
      this.#giveUp(`has not answered for ${Math.round(silentMs)} ms`);
    } else if (!this.#pinged) {
      // A leader that is alive answers at once, even while it waits for SQLite's lock.
      this.#pinged = true;
      this.#socket.write(encodeFrame({ kind: 'ping' }));
    }
  }

  #giveUp(why: string): void {
    this.#end = 'unresponsive';
    this.#socket.destroy(new Error(`the leader process ${this.welcome.leaderPid} ${why}`));
  }

  #onMessage(msg: LinkMessage): void {
    switch (msg.kind) {
      case 'reply': {
        const entry = this.#inFlight.get(msg.id);
        const problem = entry === undefined ? `a reply to task ${msg.id}, which is not in flight` : replyProblem(msg.reply, entry.task);
        if (problem !== null) {
          // A leader that answers what was not asked cannot be trusted with the rest either.
          this.#socket.destroy(new Error(`the leader sent a reply that does not fit: ${problem}`));
          return;
        }
        this.#settle(msg.id)?.resolve(msg.reply);
        break;
      }
      case 'redirect':
        this.#settle(msg.id)?.reject(new NotHandedOverError('the leader was closing and did not run this task'));
        break;
      case 'bye':
        // Hang up once the tasks already sent are answered: the leader waits for that to close.
        this.#endWhenAnswered();
        break;
      case 'pong':
        break;
      default:
        this.#socket.destroy(new Error(`unexpected ${msg.kind} from the leader`));
    }
  }

  #settle(id: number): InFlight | undefined {
    const entry = this.#inFlight.get(id);
    this.#inFlight.delete(id);
    if (this.#inFlight.size === 0) {
      this.#socket.unref();
      if (this.#closed) this.#socket.end();
    }
    return entry;
  }

  #onClose(): void {
    clearInterval(this.#watch);
    this.#closed = true;
    const why = this.#lostWith === null ? 'closed the connection' : `connection failed (${(this.#lostWith as Error).message})`;
    const lost = new WorkerExitedError(
      this.#end === 'unresponsive'
        ? `${(this.#lostWith as Error).message}; this process stopped waiting while this operation was with it: whether it committed is unknown (it may still commit when that process resumes)`
        : `the leader process ${this.welcome.leaderPid} ${why} while this operation was with it; whether it committed is unknown`,
      { cause: this.#lostWith ?? this },
    );
    for (const entry of this.#inFlight.values()) entry.reject(lost);
    this.#inFlight.clear();
    this.onEnd(this.#end);
  }
}

/**
 * The handshake: hello, the leader's proof checked against the token file, then (with `join`) the
 * join and its welcome; without `join` (a probe) it hangs up once the leader has proven itself
 * (`'proven'`). Resolves with null when nobody listens.
 */
function handshake(
  address: ShareAddress,
  timeoutMs: number,
  join: JoinParams | null,
): Promise<{ socket: Socket; decoder: FrameDecoder; welcome: Welcome; rest: LinkMessage[] } | 'proven' | null> {
  const socket = connect({ path: address.socketName });
  const decoder = new FrameDecoder(PRE_AUTH_FRAME_BYTES);
  const followerNonce = randomBytes(16);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new ShareRefusedError(`the process listening for ${address.path} did not finish the handshake within ${timeoutMs} ms`)), timeoutMs);
    const finish = (): void => {
      clearTimeout(timer);
      socket.removeAllListeners('data');
      socket.removeAllListeners('error');
      socket.removeAllListeners('close');
    };
    const fail = (err: unknown): void => {
      finish();
      socket.destroy();
      reject(err);
    };
    socket.once('connect', () => socket.write(encodeFrame({ kind: 'hello', version: LINK_VERSION, nonce: followerNonce, pid: process.pid })));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNREFUSED' || err.code === 'ENOENT') {
        // Nobody listens: there is no leader.
        finish();
        resolve(null);
      } else if (err.code === 'ECONNRESET' || err.code === 'EPIPE' || err.code === 'EAGAIN') {
        // A leader closing with this connection still in its backlog, or a backlog that is full.
        fail(new NotHandedOverError(`the leader did not take this connection (${err.code})`, { cause: err }));
      } else fail(err);
    });
    socket.on('close', () => fail(new NotHandedOverError('the leader closed the connection while this process joined')));
    socket.on('data', (chunk: Buffer) => {
      let frames: Frame[];
      try {
        frames = decoder.push(chunk);
      } catch (err) {
        fail(new LeaderProofError(`the process listening for ${address.path} sent what is not a leader's answer: ${(err as Error).message}`));
        return;
      }
      for (const [k, { msg }] of frames.entries()) {
        switch (msg.kind) {
          case 'challenge': {
            if (msg.version !== LINK_VERSION) {
              fail(new LinkVersionError(`the leader of ${address.path} speaks link protocol ${msg.version}, this process ${LINK_VERSION}`));
              return;
            }
            // Read only now: a new leader writes its token before it reads any hello.
            let token: Buffer;
            try {
              token = readToken(address.tokenPath);
            } catch (err) {
              const Refusal = err instanceof TokenFileError ? OwnTokenError : ShareRefusedError;
              fail(err instanceof ShareError ? new Refusal(err.message, { cause: err }) : err);
              return;
            }
            if (!proofMatches(msg.proof, linkProof(token, 'leader', followerNonce, msg.nonce))) {
              fail(new LeaderProofError(`the process listening for ${address.path} could not prove it holds the leader token`));
              return;
            }
            if (join === null) {
              finish();
              socket.destroy();
              resolve('proven');
              return;
            }
            // The leader has proven itself: its replies may now be large and use every codec.
            decoder.maxFrameBytes = MAX_REPLY_FRAME_BYTES;
            decoder.allowV8 = true;
            socket.write(encodeFrame({ kind: 'join', proof: linkProof(token, 'follower', followerNonce, msg.nonce), ...join }));
            break;
          }
          case 'welcome':
            if (!decoder.allowV8) {
              fail(new LeaderProofError(`the process listening for ${address.path} welcomed this process before proving itself`));
              return;
            }
            finish();
            resolve({ socket, decoder, welcome: msg, rest: frames.slice(k + 1).map((f) => f.msg) });
            return;
          case 'refused':
            if (msg.version !== undefined && msg.version !== LINK_VERSION) {
              fail(new LinkVersionError(`the leader of ${address.path} speaks link protocol ${msg.version}, this process ${LINK_VERSION}`));
              return;
            }
            fail(errorFromData(msg.error));
            return;
          case 'bye':
            fail(new NotHandedOverError('the leader is closing'));
            return;
          default:
            fail(new LeaderProofError(`unexpected ${msg.kind} from the process listening for ${address.path}`));
            return;
        }
      }
    });
  });
}
