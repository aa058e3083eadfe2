import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { checkFollowerTask } from './link-checks.js';
import { FrameDecoder, LINK_VERSION, encodeFrame, linkProof, proofMatches } from './link-protocol.js';
import type { Frame, LinkMessage } from './link-protocol.js';
import type { SynchronousMode, WriterReply, WriterTask } from '../protocol.js';
import { WriterErrorCode } from '../protocol.js';
import { writeToken } from './share-address.js';
import { sqlProblem } from '../sql-shape.js';
import { toErrorData } from '../error-data.js';
import type { ErrorData } from '../protocol.js';

/** What a follower asked for when it joined. */
export type JoinRequest = Extract<LinkMessage, { kind: 'join' }>;

/** One joined follower, as the writer sees it. */
export interface Follower {
  readonly pid: number;
  readonly synchronous: SynchronousMode;
}

/**
 * Queues a follower's task. `wanted()` is asked again just before the task's transaction starts:
 * a follower that has hung up meanwhile (it gave up on a leader that was stopped) reported the
 * task as outcome-unknown, so it is dropped rather than committed behind its back.
 */
export type RunFollowerTask = (task: WriterTask, wanted: () => boolean) => Promise<WriterReply>;

/** The writer's side of the leader socket: everything runs in the writer's one chain of jobs. */
export interface LeaderHost {
  /** Loads the follower's procedures, raises `synchronous` if it asks for more, runs its setup. */
  join(follower: Follower, request: JoinRequest): Promise<{ welcome: LinkMessage; runTask: RunFollowerTask }>;
  /** The follower's socket closed. */
  leave(follower: Follower): void;
}

/**
 * Limits on connections that have not proven they hold the token. Anyone on the machine can reach
 * an abstract socket, so these bound what a stranger costs the leader: a hello is tiny, a join
 * carries the follower's setup SQL, a handshake that has not finished within a few seconds is cut,
 * and of the connections still handshaking only the newest few are kept (an honest follower
 * finishes in milliseconds, so evicting the oldest leaves it room even under a flood).
 */
export const PRE_AUTH_LIMITS = {
  helloBytes: 1024,
  joinBytes: 1024 * 1024,
  handshakeMs: 5_000,
  pendingConnections: 32,
} as const;

/** Largest frame from a follower that has proven itself (a batch is about `maxBatchBytes`; one op may be larger). */
const MAX_FOLLOWER_FRAME_BYTES = 1024 * 1024 * 1024;

/**
 * The leader's socket, served from the writer thread, whose event loop stays live while it leads
 * (piscina `atomics: 'disabled'`), so a follower's batch is read while this process's own main thread
 * does its own work. Batches from followers join this process's own in the writer's queue and
 * commit in the same transactions.
 *
 * Every connection is handled as untrusted until its proof checks out, and any error in handling
 * one connection's bytes closes that connection only: nothing a peer sends can throw into the
 * writer thread.
 */
export class LeaderServer {
  readonly #server: Server;
  readonly #token: Buffer;
  readonly #host: LeaderHost;
  readonly #sessions = new Set<Socket>();
  /**
   * Connections still handshaking, oldest first, or refused and waiting for the peer to hang up:
   * each with the time it is cut off. One sweep for all of them, not a timer each: a stranger can
   * open thousands of connections a second, and every object per connection counts.
   */
  readonly #pending = new Map<Socket, number>();
  readonly #sweep: NodeJS.Timeout;
  #closing = false;

  private constructor(server: Server, token: Buffer, host: LeaderHost) {
    this.#server = server;
    this.#token = token;
    this.#host = host;
    server.on('connection', (socket) => this.#serve(socket));
    // EMFILE and the like while accepting: that connection is lost, the server keeps listening.
    server.on('error', () => undefined);
    this.#sweep = setInterval(() => {
      const now = performance.now();
      for (const [socket, cutOffAt] of this.#pending) if (cutOffAt <= now) socket.destroy();
    }, 250);
    this.#sweep.unref();
  }

  /**
   * Binds the socket: the election. Rejects with EADDRINUSE when another process leads. On success
   * writes a fresh token before any follower's hello is read, so a follower that connects at once
   * already finds the new token.
   */
  static listen(socketName: string, tokenPath: string, host: LeaderHost): Promise<LeaderServer> {
    return new Promise((resolve, reject) => {
      const server = createServer({ allowHalfOpen: false });
      server.once('error', reject);
      server.listen(socketName, () => {
        server.off('error', reject);
        let token: Buffer;
        try {
          token = writeToken(tokenPath);
        } catch (err) {
          server.close();
          reject(err);
          return;
        }
        // Only followers keep the writer busy; the socket alone must not keep this thread alive.
        server.unref();
        resolve(new LeaderServer(server, token, host));
      });
    });
  }

  /** Connections open now, and of them still handshaking (for tests and stats). */
  get connections(): { open: number; handshaking: number } {
    return { open: this.#sessions.size, handshaking: this.#pending.size };
  }

  /** Takes no new connection and runs no new task: tasks arriving from now on are redirected. */
  beginClose(): void {
    this.#closing = true;
    this.#server.close();
    clearInterval(this.#sweep);
    for (const socket of this.#pending.keys()) socket.destroy();
  }

  /**
   * Tells every follower the leader is leaving and waits for each to hang up. A follower may have
   * sent tasks before it read the bye: they are answered with `redirect` until it hangs up, so none
   * is left in doubt. A follower that does not hang up within `graceMs` is cut off.
   */
  async end(graceMs = 2_000): Promise<void> {
    this.beginClose();
    const open = [...this.#sessions];
    for (const socket of open) if (!socket.destroyed && socket.writable) socket.write(encodeFrame({ kind: 'bye' }));
    const closed = open.map((socket) => (socket.closed ? Promise.resolve() : new Promise((resolve) => socket.once('close', resolve))));
    const timer = setTimeout(() => {
      for (const socket of open) socket.destroy();
    }, graceMs);
    await Promise.all(closed);
    clearTimeout(timer);
  }

  #serve(socket: Socket): void {
    this.#sessions.add(socket);
    this.#pending.set(socket, performance.now() + PRE_AUTH_LIMITS.handshakeMs);
    if (this.#pending.size > PRE_AUTH_LIMITS.pendingConnections) {
      const oldest = this.#pending.keys().next().value!;
      this.#pending.delete(oldest);
      oldest.destroy();
    }
    const decoder = new FrameDecoder(PRE_AUTH_LIMITS.helloBytes);
    const send = (msg: LinkMessage): void => {
      if (socket.destroyed || !socket.writable) return;
      try {
        socket.write(encodeFrame(msg));
      } catch {
        socket.destroy();
      }
    };
    const leaderNonce = randomBytes(16);
    let followerNonce: Uint8Array | null = null;
    let pid = 0;
    let follower: Follower | null = null;
    let runTask: RunFollowerTask | null = null;
    /** Task ids this follower has with the writer: a duplicate would answer the wrong op. */
    const inFlight = new Set<number>();
    /** Refused or cut off: nothing more this peer sends is read. */
    let ended = false;
    const refuseWith = (error: ErrorData, extra: { version?: number } = {}): void => {
      ended = true;
      send({ kind: 'refused', error, ...extra });
      socket.end();
      // A peer that does not hang up after its refusal is cut off all the same.
      this.#pending.delete(socket);
      this.#pending.set(socket, performance.now() + 1_000);
    };
    const refuse = (message: string): void => refuseWith({ name: 'ShareRefusedError', code: WriterErrorCode.shareRefused, message });
    const authenticated = (): void => {
      this.#pending.delete(socket);
      decoder.maxFrameBytes = MAX_FOLLOWER_FRAME_BYTES;
      decoder.allowV8 = true;
    };

    const onFrame = ({ msg, bytes }: Frame): boolean => {
      switch (msg.kind) {
        case 'hello':
          if (followerNonce !== null) return refuse('hello sent twice'), false;
          if (msg.version !== LINK_VERSION) {
            refuseWith(
              { name: 'ShareRefusedError', code: WriterErrorCode.shareRefused, message: `the leader speaks link protocol ${LINK_VERSION}, this process ${msg.version}: processes of different litescribe versions do not share a writer` },
              { version: LINK_VERSION },
            );
            return false;
          }
          followerNonce = msg.nonce;
          pid = msg.pid;
          decoder.maxFrameBytes = PRE_AUTH_LIMITS.joinBytes;
          send({ kind: 'challenge', version: LINK_VERSION, nonce: leaderNonce, proof: linkProof(this.#token, 'leader', msg.nonce, leaderNonce) });
          return true;
        case 'join': {
          if (followerNonce === null || follower !== null) return refuse('join out of order'), false;
          if (!proofMatches(msg.proof, linkProof(this.#token, 'follower', followerNonce, leaderNonce))) {
            return refuse('wrong proof of access: this process cannot read the leader token beside the database'), false;
          }
          authenticated();
          if (this.#closing) {
            // Not a refusal: the follower elects again and finds the next leader.
            ended = true;
            send({ kind: 'bye' });
            socket.end();
            this.#pending.set(socket, performance.now() + 1_000);
            return false;
          }
          for (const [k, sql] of msg.setup.entries()) {
            const problem = sqlProblem(sql, false);
            if (problem !== null) return refuseWith({ name: 'InvalidSqlError', code: WriterErrorCode.invalidSql, message: `\`setup[${k}]\` ${problem}` }), false;
          }
          const joined: Follower = { pid, synchronous: msg.synchronous };
          follower = joined;
          this.#host.join(joined, msg).then(
            (j) => {
              // Hung up while joining: leave now, or its `synchronous` would stay in force.
              if (socket.closed) return this.#host.leave(joined);
              runTask = j.runTask;
              send(j.welcome);
            },
            (err: unknown) => refuseWith(toErrorData(err)),
          );
          return true;
        }
        case 'task': {
          if (runTask === null) return refuse('task before welcome'), false;
          const id = msg.id;
          if (!Number.isSafeInteger(id) || id < 1 || inFlight.has(id)) return refuse(`task id ${String(id)} is not a new positive integer`), false;
          if (this.#closing) {
            send({ kind: 'redirect', id });
            return true;
          }
          const checked = checkFollowerTask(msg.task, bytes);
          if ('problem' in checked) {
            // Refused to this follower alone, before it could be merged with anyone else's.
            send({ kind: 'reply', id, reply: { kind: 'failed', error: { name: 'ShareRefusedError', code: WriterErrorCode.shareRefused, message: `the leader refused this batch: ${checked.problem}` } } });
            return true;
          }
          inFlight.add(id);
          runTask(checked.task, () => !socket.destroyed && !socket.readableEnded).then((reply) => {
            inFlight.delete(id);
            send({ kind: 'reply', id, reply });
          });
          return true;
        }
        case 'ping':
          send({ kind: 'pong' });
          return true;
        default:
          return refuse(`unexpected ${msg.kind} from a follower`), false;
      }
    };

    socket.on('data', (chunk: Buffer) => {
      if (ended) return;
      try {
        for (const frame of decoder.push(chunk)) if (!onFrame(frame)) break;
      } catch {
        // Whatever this peer sent, it ends here: this connection only.
        socket.destroy();
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      this.#pending.delete(socket);
      this.#sessions.delete(socket);
      // Only a follower that finished joining; one still joining leaves when its join ends.
      if (follower !== null && runTask !== null) this.#host.leave(follower);
    });
  }
}
