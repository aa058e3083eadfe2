import { expect, test } from 'vitest';
import { jitteredDelay } from '@litescribe/writer-worker';

test('the retry pause stays within [min, max] and its window grows with the attempt', () => {
  const sample = (attempt: number): number[] => Array.from({ length: 2000 }, () => jitteredDelay(attempt, 1, 20));
  for (const attempt of [1, 2, 5, 30]) {
    for (const d of sample(attempt)) {
      expect(d).toBeGreaterThanOrEqual(1);
      expect(d).toBeLessThanOrEqual(20);
    }
  }
  // Window at attempt 1 is [1, 2]; by attempt 5 it is the whole [1, 20].
  expect(Math.max(...sample(1))).toBeLessThanOrEqual(2);
  expect(Math.max(...sample(5))).toBeGreaterThan(10);
  // Jitter: not one fixed schedule.
  expect(new Set(sample(5).map((d) => d.toFixed(3))).size).toBeGreaterThan(100);
});
