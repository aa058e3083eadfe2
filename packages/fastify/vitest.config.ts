import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Real threads, real child processes and real fsyncs on a 2-core machine: be patient, assert
    // outcomes, never tight timings.
    testTimeout: 60_000,
    hookTimeout: 30_000,
    maxWorkers: 2,
  },
});
