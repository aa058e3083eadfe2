import type { Driven } from './drivers.js';

/**
 * Runs a measurement `times` times and keeps the fastest. On a shared machine interference only ever
 * slows a run down, so the best of a few is the steadiest estimate; every row of a table gets the
 * same number of tries, so ratios between rows stay fair.
 */
export async function bestOf<T extends Driven>(times: number, measure: () => Promise<T>): Promise<T> {
  let best: T | null = null;
  for (let i = 0; i < times; i++) {
    const d = await measure();
    if (best === null || d.ops / d.seconds > best.ops / best.seconds) best = d;
  }
  return best!;
}
