import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { FrameDecoder, encodeFrame, linkProof, proofMatches } from './link-protocol.js';
import type { LinkMessage } from './link-protocol.js';
import type { SynchronousMode, WriterReply, WriterTask } from './protocol.js';
import { WriterErrorCode } from './protocol.js';
import { writeToken } from './share-address.js';
import { toErrorData } from './error-data.js';
import type { ErrorData } from './protocol.js';

/** What a follower asked for when it joined. */
export type JoinRequest = Extract<LinkMessage, { kind: 'join' }>;

/** One joined follower, as the writer sees it. */
export interface Follower {
  readonly pid: number;
  readonly synchronous: SynchronousMode;
}

/** The writer's side of the leader socket: everything runs in the writer's one chain of jobs. */
export interface LeaderHost {
  /** Loads the follower's procedures, raises `synchronous` if it asks for more, runs its setup. */
  join(follower: Follower, request: JoinRequest): Promise<{ welcome: LinkMessage; runTask: (task: WriterTask) => Promise<WriterReply> }>;
  /** The follower's socket closed. */
  leave(follower: Follower): void;
}

/**
 * The leader's socket, served from the writer thread, whose event loop stays live while it leads
 * (piscina `atomics: 'disabled'`), so a follower's batch is read while this process's own main thread
 * does its own work. Batches from followers join this process's own in the writer's queue and
 * commit in the same transactions.
 */
export class LeaderServer {
  readonly #server: Server;
  readonly #token: Buffer;
  readonly #host: LeaderHost;
  readonly #sessions = new Set<Socket>();
  #closing = false;

  private constructor(server: Server, token: Buffer, host: LeaderHost) {
    this.#server = server;
    this.#token = token;
    this.#host = host;
    server.on('connection', (socket) => this.#serve(socket));
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

  /** Takes no new connection and runs no new task: tasks arriving from now on are redirected. */
  beginClose(): void {
    this.#closing = true;
    this.#server.close();
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
    const decoder = new FrameDecoder();
    const send = (msg: LinkMessage): void => {
      if (!socket.destroyed && socket.writable) socket.write(encodeFrame(msg));
    };
    const leaderNonce = randomBytes(16);
    let followerNonce: Uint8Array | null = null;
    let pid = 0;
    let follower: Follower | null = null;
    let runTask: ((task: WriterTask) => Promise<WriterReply>) | null = null;
    const refuseWith = (error: ErrorData): void => {
      send({ kind: 'refused', error });
      socket.end();
    };
    const refuse = (message: string): void => refuseWith({ name: 'ShareRefusedError', code: WriterErrorCode.shareRefused, message });
    socket.on('data', (chunk: Buffer) => {
      let messages: LinkMessage[];
      try {
        messages = decoder.push(chunk);
      } catch {
        socket.destroy();
        return;
      }
      for (const msg of messages) {
        switch (msg.kind) {
          case 'hello':
            if (followerNonce !== null) return refuse('hello sent twice');
            followerNonce = msg.nonce;
            pid = msg.pid;
            send({ kind: 'challenge', nonce: leaderNonce, proof: linkProof(this.#token, 'leader', msg.nonce, leaderNonce) });
            break;
          case 'join': {
            if (followerNonce === null || follower !== null) return refuse('join out of order');
            if (!proofMatches(msg.proof, linkProof(this.#token, 'follower', followerNonce, leaderNonce))) {
              return refuse('wrong proof of access: this process cannot read the leader token beside the database');
            }
            if (this.#closing) {
              // Not a refusal: the follower elects again and finds the next leader.
              send({ kind: 'bye' });
              socket.end();
              return;
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
            break;
          }
          case 'task':
            if (runTask === null) return refuse('task before welcome');
            if (msg.task.kind !== 'batch' && msg.task.kind !== 'checkpoint') return refuse(`a follower cannot send a ${msg.task.kind} task`);
            if (this.#closing) {
              send({ kind: 'redirect', id: msg.id });
              break;
            }
            runTask(msg.task).then((reply) => send({ kind: 'reply', id: msg.id, reply }));
            break;
          default:
            return refuse(`unexpected ${msg.kind} from a follower`);
        }
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      this.#sessions.delete(socket);
      // Only a follower that finished joining; one still joining leaves when its join ends.
      if (follower !== null && runTask !== null) this.#host.leave(follower);
    });
  }
}
