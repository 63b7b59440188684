import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Fault injection and fuzzing run as their own step: npm run test:resilience (vitest.faults.config.mjs).
    exclude: ['test/faults/**', 'test/fuzz/**', 'node_modules/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Integration tests start servers and child processes; keep parallelism modest on 2 cores.
    maxWorkers: 2,
  },
});
