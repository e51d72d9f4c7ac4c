import { defineConfig } from 'vitest/config';

// `npm run test:queue`: the compute queue against a real redis-server (issue #20), kept out of
// `npm test` because it needs redis-server and the built CLI. CI installs it (.ci/run).
export default defineConfig({
  resolve: { conditions: ['source'] },
  test: { root: import.meta.dirname, include: ['**/*.queue.ts'], testTimeout: 300_000, hookTimeout: 300_000, pool: 'forks', fileParallelism: false },
});
