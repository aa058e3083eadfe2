import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import type { SynchronousMode, WriterReply, WriterTask } from '@litescribe/writer-worker';
import { FrameDecoder, ShareError, encodeFrame, linkProof, proofMatches, readToken } from '@litescribe/writer-worker/link';
import type { LinkMessage, ShareAddress } from '@litescribe/writer-worker/link';
import { ShareRefusedError, WorkerExitedError, errorFromData } from './errors.js';
import type { TaskRunner } from './task-runner.js';

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
}

/** A task that never reached a leader, or that a closing leader sent back unrun: safe to send to the next one. */
export class NotHandedOverError extends Error {
  override readonly name = 'NotHandedOverError';
}

/** The leader's answer did not prove it holds the token: whoever bound the socket is not a leader we trust. */
export class LeaderProofError extends Error {
  override readonly name = 'LeaderProofError';
}

interface InFlight {
  readonly resolve: (reply: WriterReply) => void;
  readonly reject: (err: unknown) => void;
}

/**
 * A follower's link to the leader: its tasks go over a local socket to the leader's writer thread,
 * which commits them in the same transactions as everyone else's. Lives on the follower's main
 * thread: socket I/O is asynchronous, and a follower then needs no writer thread of its own.
 */
export class LeaderLink implements TaskRunner {
  readonly #socket: Socket;
  readonly #inFlight = new Map<number, InFlight>();
  #nextId = 1;
  /** No task may be sent any more: the leader said bye, or the socket ended. */
  #closed = false;
  #lostWith: unknown = null;
  readonly welcome: Welcome;
  /** Called once when the link ends, for whatever reason. */
  onEnd: () => void = () => undefined;

  private constructor(socket: Socket, decoder: FrameDecoder, welcome: Welcome) {
    this.#socket = socket;
    this.welcome = welcome;
    socket.on('data', (chunk: Buffer) => {
      let messages: LinkMessage[];
      try {
        messages = decoder.push(chunk);
      } catch (err) {
        socket.destroy(err as Error);
        return;
      }
      for (const msg of messages) this.#onMessage(msg);
    });
    socket.on('error', (err) => {
      this.#lostWith = err;
    });
    socket.on('close', () => this.#onClose());
    socket.unref();
  }

  /**
   * Connects and joins. Resolves with null when no process listens (there is no leader); rejects
   * with {@link LeaderProofError} when whoever listens cannot prove it holds the token, and with the
   * leader's typed error when it refuses this process (bad proof, procedures it cannot load, setup
   * that fails).
   */
  static async connect(address: ShareAddress, join: JoinParams, timeoutMs: number): Promise<LeaderLink | null> {
    const socket = connect({ path: address.socketName });
    const decoder = new FrameDecoder();
    const followerNonce = randomBytes(16);
    return new Promise<LeaderLink | null>((resolve, reject) => {
      const timer = setTimeout(() => fail(new ShareRefusedError(`the leader of ${address.path} did not answer within ${timeoutMs} ms`)), timeoutMs);
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
      socket.once('connect', () => socket.write(encodeFrame({ kind: 'hello', nonce: followerNonce, pid: process.pid })));
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
        let messages: LinkMessage[];
        try {
          messages = decoder.push(chunk);
        } catch (err) {
          fail(err);
          return;
        }
        for (const [k, msg] of messages.entries()) {
          switch (msg.kind) {
            case 'challenge': {
              // Read only now: a new leader writes its token before it reads any hello.
              let token: Buffer;
              try {
                token = readToken(address.tokenPath);
              } catch (err) {
                fail(err instanceof ShareError ? new ShareRefusedError(err.message, { cause: err }) : err);
                return;
              }
              if (!proofMatches(msg.proof, linkProof(token, 'leader', followerNonce, msg.nonce))) {
                fail(new LeaderProofError(`the process listening for ${address.path} could not prove it holds the leader token`));
                return;
              }
              socket.write(encodeFrame({ kind: 'join', proof: linkProof(token, 'follower', followerNonce, msg.nonce), ...join }));
              break;
            }
            case 'welcome': {
              finish();
              const link = new LeaderLink(socket, decoder, msg);
              // A leader closing right after the welcome may have sent its bye in the same chunk.
              for (const later of messages.slice(k + 1)) link.#onMessage(later);
              resolve(link);
              return;
            }
            case 'refused':
              fail(errorFromData(msg.error));
              return;
            case 'bye':
              fail(new NotHandedOverError('the leader is closing'));
              return;
            default:
              fail(new Error(`unexpected ${msg.kind} from the leader while joining`));
              return;
          }
        }
      });
    });
  }

  /** Sends a task to the leader. `close` is answered here: a follower has no connection of its own to close. */
  run(task: WriterTask): Promise<WriterReply> {
    if (task.kind === 'close') {
      this.#end();
      return Promise.resolve({ kind: 'closed', reports: [] });
    }
    if (this.#closed) return Promise.reject(new NotHandedOverError('the link to the leader has ended'));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#inFlight.set(id, { resolve, reject });
      // A task in flight keeps the process alive until it is answered; an idle link does not.
      if (this.#inFlight.size === 1) this.#socket.ref();
      this.#socket.write(encodeFrame({ kind: 'task', id, task }));
    });
  }

  async destroy(): Promise<void> {
    this.#socket.destroy();
    if (!this.#socket.closed) await new Promise((resolve) => this.#socket.once('close', resolve));
  }

  /** Ends the link once every task sent has its answer. */
  #end(): void {
    this.#closed = true;
    if (this.#inFlight.size === 0) this.#socket.end();
  }

  #onMessage(msg: LinkMessage): void {
    switch (msg.kind) {
      case 'reply':
        this.#settle(msg.id)?.resolve(msg.reply);
        break;
      case 'redirect':
        this.#settle(msg.id)?.reject(new NotHandedOverError('the leader was closing and did not run this task'));
        break;
      case 'bye':
        // Hang up once the tasks already sent are answered: the leader waits for that to close.
        this.#end();
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
    this.#closed = true;
    const why = this.#lostWith === null ? 'closed the connection' : `connection failed (${(this.#lostWith as Error).message})`;
    const lost = new WorkerExitedError(`the leader process ${this.welcome.leaderPid} ${why} while this operation was with it; whether it committed is unknown`, {
      cause: this.#lostWith ?? this,
    });
    for (const entry of this.#inFlight.values()) entry.reject(lost);
    this.#inFlight.clear();
    this.onEnd();
  }
}

