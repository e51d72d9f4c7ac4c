import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The renderer is one static bundle: Electron loads it from disk and `canopy node --ui`
// serves it over HTTP. Relative asset paths make both work without a base URL.
export default defineConfig({
  root: import.meta.dirname,
  base: './',
  plugins: [react()],
  resolve: { conditions: ['source', 'browser', 'module', 'import', 'default'] },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2023', sourcemap: true, chunkSizeWarningLimit: 1024 },
});
