// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Modules the pure protocol core must never import: it does no I/O and no ML itself. */
const impureModules = [
  { group: ['libp2p', '@libp2p/*', '@chainsafe/*', '@multiformats/*'], message: 'core/src/protocol is pure: networking belongs in core/src/net or core/src/node.' },
  { group: ['@tensorflow/*'], message: 'core/src/protocol is pure: tfjs belongs in core/src/ml.' },
  { group: ['node:*', 'fs', 'net', 'os', 'path', 'child_process', 'worker_threads', 'crypto', 'http', 'https'], message: 'core/src/protocol is pure: no Node I/O; receive what you need through ctx or inputs.' },
  { group: ['**/net/*', '**/node/*', '**/ml/*', '!**/ml/types.js', '**/compute/*', '**/storage/*', '**/artifacts/*'], message: 'core/src/protocol may import only the pure ML specs (core/src/spec), util and the ML types, not the ML engine, compute, storage, artifacts, net or node.' },
];

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'runs/**', 'test/artifacts/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', performance: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly', structuredClone: 'readonly', queueMicrotask: 'readonly', Buffer: 'readonly', WebAssembly: 'readonly', globalThis: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    files: ['core/src/protocol/**/*.ts'],
    // Tests may read fixtures from disk; the rule guards the shipped protocol code.
    ignores: ['**/*.test.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: impureModules }] },
  },
);
