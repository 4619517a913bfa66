import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Vitest runs one fork fewer than the cores: one on 2 cores, which ran the suite file after file (8 min 18 s on a
    // fresh clone here). Much of it waits on child processes (Python, tlr runs, git), so two forks on 2 cores took
    // 5 min 3 s, every test passing (2026-12-07).
    poolOptions: { forks: { maxForks: Math.max(2, availableParallelism() - 1) } },
  },
});
