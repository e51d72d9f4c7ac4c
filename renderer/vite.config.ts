import { join } from 'node:path';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The renderer is one static bundle: Electron loads it from disk and `canopy node --ui`
// serves it over HTTP. Relative asset paths make both work without a base URL. gpu.html is
// the desktop app's hidden GPU window (src/gpu): tfjs on WebGPU/WebGL, training for the node.
export default defineConfig({
  root: import.meta.dirname,
  base: './',
  plugins: [react()],
  resolve: { conditions: ['source', 'browser', 'module', 'import', 'default'] },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2023',
    sourcemap: true,
    // tfjs is one large chunk, loaded only by the GPU window.
    chunkSizeWarningLimit: 4096,
    rollupOptions: { input: { main: join(import.meta.dirname, 'index.html'), gpu: join(import.meta.dirname, 'gpu.html') } },
  },
});
