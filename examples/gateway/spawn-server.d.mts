/** A gateway server.mjs running in a child process. */
export interface SpawnedGateway {
  readonly url: string;
  /** `stats().role` of its queue when it started listening: leader, follower or solo. */
  readonly role: string;
  readonly exited: Promise<number | null>;
  /** SIGTERM, then its exit code. */
  stop(): Promise<number | null>;
}
export function spawnGateway(env: Record<string, string>): Promise<SpawnedGateway>;
