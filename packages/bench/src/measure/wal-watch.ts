import { statSync } from 'node:fs';

/** Polls the size of `<path>-wal` (stat only, never open) and keeps the peak. */
export class WalWatch {
  readonly #file: string;
  readonly #timer: NodeJS.Timeout;
  peakBytes = 0;

  constructor(dbPath: string, everyMs = 10) {
    this.#file = `${dbPath}-wal`;
    this.#timer = setInterval(() => this.sample(), everyMs);
  }

  sample(): void {
    const size = statSync(this.#file, { throwIfNoEntry: false })?.size ?? 0;
    if (size > this.peakBytes) this.peakBytes = size;
  }

  stop(): number {
    clearInterval(this.#timer);
    this.sample();
    return this.peakBytes;
  }
}
