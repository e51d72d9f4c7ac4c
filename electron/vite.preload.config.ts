import { defineConfig } from 'vite';

// A sandboxed preload may load nothing but `electron`, so it is bundled into one CommonJS
// file next to main.js.
export default defineConfig({
  root: import.meta.dirname,
  resolve: { conditions: ['source', 'node', 'import', 'default'] },
  build: {
    outDir: 'dist',
    emptyOutDir: false,
    target: 'node22',
    minify: false,
    lib: { entry: 'src/preload.ts', formats: ['cjs'], fileName: () => 'preload.cjs' },
    rollupOptions: { external: ['electron'] },
  },
});
