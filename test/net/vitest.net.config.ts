import { defineConfig } from 'vitest/config';

// `npm run test:net`: network topologies in Linux network namespaces with real `canopy node`
// processes; kept out of `npm test` because it needs root and takes minutes.
export default defineConfig({
  resolve: { conditions: ['source'] },
  test: { root: import.meta.dirname, include: ['**/*.net.ts'], testTimeout: 900_000, hookTimeout: 120_000, pool: 'forks', fileParallelism: false },
});
