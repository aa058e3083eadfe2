import type { BusyRetryPolicy } from '../busy-retry.js';
import type { Follower, JoinRequest, LeaderHost } from './leader-server.js';
import type { SynchronousMode, WriterReply, WriterTask } from '../protocol.js';
import { loadProcedures } from '../load-procedures.js';
import { procStatFields } from './proc-stat.js';
import type { Procedure, WriterConnection } from '../writer-connection.js';

type Procedures = ReadonlyMap<string, Procedure>;

/** What the followers need of the writer: its connection, and a place in its one queue of jobs. */
export interface FollowersWriter {
  readonly connect: () => Promise<WriterConnection>;
  /** The connection if it is open (a follower leaving after close needs none). */
  readonly connection: () => WriterConnection | null;
  /** Runs `step` between transactions, in the writer's queue. */
  readonly runStep: (step: () => Promise<void>) => Promise<void>;
  /** Queues a follower's task, its `call` ops resolved against `procedures`; dropped if no longer `wanted()` when its turn comes. */
  readonly submitTask: (task: WriterTask, procedures: Procedures, wanted: () => boolean) => Promise<WriterReply>;
  readonly retry: BusyRetryPolicy;
  /** This process's own `synchronous`. */
  readonly synchronous: SynchronousMode;
}

const SYNC_ORDER: readonly SynchronousMode[] = ['off', 'normal', 'full', 'extra'];

/**
 * A leader's followers, as its writer thread keeps them: each one's procedures module (imported
 * here once per URL), and the strongest `synchronous` any of them asked for, in force on the
 * connection so that no follower's commit is weaker than its own queue's setting.
 */
export class Followers implements LeaderHost {
  readonly #writer: FollowersWriter;
  readonly #joined = new Set<Follower>();
  readonly #modules = new Map<string, Promise<Procedures>>();
  #syncInForce: SynchronousMode;

  constructor(writer: FollowersWriter) {
    this.#writer = writer;
    this.#syncInForce = writer.synchronous;
  }

  get size(): number {
    return this.#joined.size;
  }

  async join(follower: Follower, request: JoinRequest): ReturnType<LeaderHost['join']> {
    const procedures = request.procedures === null ? new Map<string, Procedure>() : await this.#load(request.procedures);
    let welcome: { sqliteVersion: string; walBytes: number } | null = null;
    await this.#writer.runStep(async () => {
      const conn = await this.#writer.connect();
      // Raised before the follower's first batch can arrive (it sends one only after the welcome).
      this.#joined.add(follower);
      this.#applySync(conn);
      try {
        await conn.applySetup(request.setup, this.#writer.retry);
      } catch (err) {
        this.#joined.delete(follower);
        this.#applySync(conn);
        throw err;
      }
      welcome = { sqliteVersion: conn.sqliteVersion, walBytes: conn.walBytes() };
    });
    const { sqliteVersion, walBytes } = welcome!;
    return {
      welcome: { kind: 'welcome', sqliteVersion, procedures: [...procedures.keys()], walBytes, leaderPid: process.pid, leaderStart: procStatFields('self')?.[19] ?? null },
      runTask: (task: WriterTask, wanted: () => boolean) => this.#writer.submitTask(task, procedures, wanted),
    };
  }

  leave(follower: Follower): void {
    if (!this.#joined.delete(follower)) return;
    void this.#writer
      .runStep(async () => {
        const conn = this.#writer.connection();
        if (conn !== null) this.#applySync(conn);
      })
      .catch(() => undefined);
  }

  #load(url: string): Promise<Procedures> {
    let loading = this.#modules.get(url);
    if (loading === undefined) {
      loading = loadProcedures<Procedure>(url);
      this.#modules.set(url, loading);
      loading.catch(() => this.#modules.delete(url));
    }
    return loading;
  }

  #applySync(conn: WriterConnection): void {
    let want = this.#writer.synchronous;
    for (const f of this.#joined) if (SYNC_ORDER.indexOf(f.synchronous) > SYNC_ORDER.indexOf(want)) want = f.synchronous;
    if (want === this.#syncInForce) return;
    conn.db.pragma(`synchronous = ${want.toUpperCase()}`);
    this.#syncInForce = want;
  }
}
