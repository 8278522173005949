import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['common/**/*.test.ts', 'broker/**/*.test.ts', 'operator/**/*.test.ts', 'client/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Process-level tests start brokers on loopback ports; files run in parallel on 2 cores.
    pool: 'forks',
  },
});
