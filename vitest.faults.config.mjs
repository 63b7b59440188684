import { defineConfig } from 'vitest/config';

/**
 * The fault suite and the fuzzers (issue 7, items 3–5): real processes that are SIGKILLed, a redis-server that is
 * killed and restarted, property-based tests with many runs. Slower than `npm test`; every loop is bounded.
 */
export default defineConfig({
  test: {
    include: ['test/faults/**/*.test.ts', 'test/fuzz/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 90_000,
    pool: 'forks',
    // Three files at a time on 2 cores: most fault tests spend their time waiting on BullMQ's 30 s lock and stall
    // timers (a killed job comes back after 30–60 s), so a third file fits beside them; tests that are sensitive
    // to a starved CPU tolerate it (a source read that times out is manual review, which they accept).
    maxWorkers: 3,
  },
});
