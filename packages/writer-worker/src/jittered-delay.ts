/**
 * Full jitter: uniform in [min, window], the window doubling per attempt up to `max`. Shared by the
 * SQLite writer's lock retries and the PostgreSQL writer's serialization-failure retries
 * (`@litescribe/writer-worker/jittered-delay`, loads no SQLite).
 */
export function jitteredDelay(attempt: number, minMs: number, maxMs: number): number {
  const window = Math.min(maxMs, minMs * 2 ** Math.min(attempt, 20));
  return minMs + Math.random() * Math.max(0, window - minMs);
}
