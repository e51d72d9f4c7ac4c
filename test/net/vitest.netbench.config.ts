import { defineConfig } from 'vitest/config';

// `npm run bench:net`: the network benchmarks (JSON), in Linux network namespaces like test:net.
export default defineConfig({
  resolve: { conditions: ['source'] },
  test: { root: import.meta.dirname, include: ['**/*.netbench.ts'], testTimeout: 1_800_000, hookTimeout: 120_000, pool: 'forks', fileParallelism: false },
});
