import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** What every suite gets: the run's size, fresh database files, and a progress line. */
export class BenchContext {
  readonly smoke: boolean;
  readonly dir: string;
  #files = 0;
  readonly #started = performance.now();

  constructor(smoke: boolean) {
    this.smoke = smoke;
    this.dir = mkdtempSync(join(tmpdir(), 'litescribe-bench-'));
  }

  /** Full-size count, or a twentieth of it in a smoke run. */
  scale(n: number): number {
    return this.smoke ? Math.max(50, Math.round(n / 20)) : n;
  }

  /** How many times each throughput row is measured (the best is kept): 2, or 1 in a smoke run. */
  get tries(): number {
    return this.smoke ? 1 : 2;
  }

  /** A path for a new database file in this run's temporary folder. */
  freshFile(): string {
    this.#files += 1;
    return join(this.dir, `bench-${this.#files}.db`);
  }

  /**
   * Deletes the database files made so far. Between suites, so that the kernel does not spend the
   * next suite writing back hundreds of megabytes of dirty pages of files nobody will read again.
   */
  discardFiles(): void {
    for (const name of readdirSync(this.dir)) rmSync(join(this.dir, name), { recursive: true, force: true });
  }

  progress(message: string): void {
    const t = ((performance.now() - this.#started) / 1000).toFixed(0).padStart(4);
    process.stderr.write(`[${t}s] ${message}\n`);
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
