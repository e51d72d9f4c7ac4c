import { defineConfig } from 'vitest/config';

// `npm run test:ui`: the browser suite, kept out of `npm test` because it needs Chromium
// and the built renderer.
export default defineConfig({
  resolve: { conditions: ['source'] },
  test: { root: import.meta.dirname, include: ['**/*.e2e.ts'], testTimeout: 120_000, hookTimeout: 120_000, pool: 'forks', fileParallelism: false },
});
