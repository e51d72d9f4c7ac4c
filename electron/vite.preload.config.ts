import { defineConfig } from 'vite';

// A sandboxed preload may load nothing but `electron`, so each (the app window's and the
// GPU window's) is bundled into one CommonJS file next to main.js.
export default defineConfig({
  root: import.meta.dirname,
  resolve: { conditions: ['source', 'node', 'import', 'default'] },
  build: {
    outDir: 'dist',
    emptyOutDir: false,
    target: 'node22',
    minify: false,
    lib: { entry: { preload: 'src/preload.ts', gpuPreload: 'src/gpu/gpuPreload.ts' }, formats: ['cjs'], fileName: (_format, name) => `${name}.cjs` },
    rollupOptions: { external: ['electron'] },
  },
});
