/**
 * The promises `flush()` and `close()` wait on. A flush waits for every operation enqueued before
 * it (sequence numbers up to its mark); an idle waiter for nothing left queued or in flight.
 */
export class SettleWaiters {
  readonly #flushes: Array<{ readonly mark: number; readonly resolve: () => void }> = [];
  readonly #idle: Array<() => void> = [];

  /** Resolves once `oldestUnsettled()` (asked on each check) is past `mark`. */
  flush(mark: number): Promise<void> {
    return new Promise((resolve) => this.#flushes.push({ mark, resolve }));
  }

  idle(): Promise<void> {
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  get hasFlushes(): boolean {
    return this.#flushes.length > 0;
  }

  /** Resolves the flushes whose every operation has settled (marks are in increasing order). */
  settleFlushes(oldestUnsettled: number): void {
    while (this.#flushes.length > 0 && this.#flushes[0]!.mark < oldestUnsettled) this.#flushes.shift()!.resolve();
  }

  settleIdle(): void {
    for (const resolve of this.#idle.splice(0)) resolve();
  }
}
