// @ts-check
import { readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const root = import.meta.dirname;

// The layer order (docs/ARCHITECTURE.md). Each layer is a folder; a file belongs to the
// longest folder that contains it. A layer may import itself and the layers listed for it,
// nothing else: imports between packages count by the folder the package entry lives in.
// test/lint/layers.test.ts proves the rule fires in every layer and that the order has no cycle.
const util = 'core/src/util', spec = 'core/src/spec', protocol = 'core/src/protocol', ml = 'core/src/ml', artifacts = 'core/src/artifacts';
const storage = 'core/src/storage', compute = 'core/src/compute', net = 'core/src/net', node = 'core/src/node', runtime = 'core/src/node/runtime', app = 'core/src/node/appApi';
const sim = (f) => `simulator/src/${f}`;
/** @type {Record<string, string[]>} */
export const layers = {
  // core, bottom up
  [util]: [],
  [spec]: [util],
  [protocol]: [spec, util],
  [ml]: [spec, util],
  [artifacts]: [protocol, spec, util],
  [storage]: [spec, util],
  [compute]: [artifacts, ml, protocol, spec, util],
  [net]: [storage, spec, util],
  // core/src/node itself holds consent (the owner's policy and ledger), under the runtime and the app API
  [node]: [protocol, storage, spec, util],
  [runtime]: [node, compute, net, storage, artifacts, ml, protocol, spec, util],
  [app]: [runtime, node, compute, net, storage, artifacts, ml, protocol, spec, util],
  // the simulator, bottom up; its root (index.ts) re-exports every folder
  [sim('engine')]: [spec, util],
  [sim('report')]: [artifacts, spec, util],
  // the compute pool on a Redis queue and its sim-worker (issue #20): an implementation of the compute layer's pool
  [sim('queue')]: [compute, ml, spec, util],
  [sim('scenario')]: [sim('queue'), sim('engine'), sim('report'), artifacts, ml, protocol, spec, util],
  [sim('run')]: [sim('scenario'), sim('queue'), sim('engine'), sim('report'), compute, artifacts, ml, protocol, spec, util],
  [sim('fidelity')]: [sim('run'), sim('scenario'), sim('engine'), sim('report'), runtime, compute, ml, protocol, spec, util],
  [sim('simulate')]: [sim('fidelity'), sim('run'), sim('scenario'), sim('queue'), sim('engine'), sim('report'), artifacts, protocol, spec, util],
  [sim('bench')]: [sim('simulate'), sim('run'), sim('scenario'), sim('queue'), sim('engine'), sim('report'), protocol, spec, util],
  'simulator/src': [sim('bench'), sim('simulate'), sim('fidelity'), sim('run'), sim('scenario'), sim('queue'), sim('engine'), sim('report'), util],
  // the desktop app: Electron's main process and preloads
  'electron/src/window': [app],
  'electron/src/idle': [compute],
  'electron/src/ipc': [app],
  'electron/src/gpu': ['electron/src/window', app, compute],
  'electron/src': ['electron/src/gpu', 'electron/src/ipc', 'electron/src/idle', 'electron/src/window', app, runtime, compute],
  // the desktop app: the renderer (the UI, and the hidden GPU window under gpu/)
  'renderer/src/api': [app],
  'renderer/src/charts': [],
  'renderer/src/text': ['renderer/src/api', 'renderer/src/charts'],
  'renderer/src/store': ['renderer/src/api', 'renderer/src/text'],
  'renderer/src/components': ['renderer/src/store', 'renderer/src/api', 'renderer/src/text', 'renderer/src/charts'],
  'renderer/src/screens': ['renderer/src/components', 'renderer/src/store', 'renderer/src/api', 'renderer/src/text', 'renderer/src/charts'],
  'renderer/src/gpu': [compute, ml, spec],
  'renderer/src': ['renderer/src/screens', 'renderer/src/components', 'renderer/src/store', 'renderer/src/api', 'renderer/src/text', 'renderer/src/charts'],
};

/** The layer of a repository-relative path, or undefined outside every layer. */
export function layerOf(path) {
  let best;
  for (const l of Object.keys(layers)) if ((path === l || path.startsWith(`${l}/`)) && (!best || l.length > best.length)) best = l;
  return best;
}

/** Where each workspace package entry ('@canopy/core/compute', ...) lives, from the packages' exports. */
const entries = new Map();
for (const pkg of ['core', 'simulator']) {
  const manifest = JSON.parse(readFileSync(join(root, pkg, 'package.json'), 'utf8'));
  for (const [key, target] of Object.entries(manifest.exports ?? {})) entries.set(manifest.name + key.slice(1), normalize(join(pkg, target.source)));
}

/** The `layers` rule: an import that leaves its layer must go to one the layer may import. */
const layersRule = {
  meta: { type: 'problem', docs: { description: 'Each folder imports only the layers listed for it in eslint.config.js' }, schema: [] },
  /** @param {any} context */
  create(context) {
    const file = relative(root, context.filename);
    const from = layerOf(file);
    if (!from) return {};
    /** @param {any} node */
    const check = (node) => {
      const spec = node.source?.value;
      if (typeof spec !== 'string') return;
      const target = spec.startsWith('.') ? normalize(join(dirname(file), spec)) : entries.get(spec);
      const to = target === undefined ? undefined : layerOf(target);
      if (!to || to === from || layers[from].includes(to)) return;
      const allowed = layers[from].length > 0 ? layers[from].join(', ') : 'no other layer';
      context.report({ node: node.source, message: `${from} may not import ${to} ('${spec}'): it may import ${allowed} (docs/ARCHITECTURE.md)` });
    };
    return { ImportDeclaration: check, ExportNamedDeclaration: check, ExportAllDeclaration: check, ImportExpression: check };
  },
};

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
  {
    files: ['core/src/spec/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ regex: '^(?!zod$)(?!\\.)', message: 'core/src/spec is pure zod: schemas and types only, importing no package but zod.' }] }] },
  },
  {
    files: ['core/src/**/*.ts', 'simulator/src/**/*.ts', 'electron/src/**/*.ts', 'renderer/src/**/*.ts', 'renderer/src/**/*.tsx'],
    // Tests may reach across layers for fixtures and end-to-end wiring; shipped code may not.
    ignores: ['**/*.test.ts', '**/*.test.tsx'],
    plugins: { canopy: { rules: { layers: layersRule } } },
    rules: { 'canopy/layers': 'error' },
  },
  {
    // The renderer is a browser bundle: only the browser-safe entries of core.
    files: ['renderer/src/**/*.ts', 'renderer/src/**/*.tsx'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ['@canopy/core/app', '@canopy/core/compute', '@canopy/core/compute/thread', '@canopy/core/runtime', '@canopy/core/net', '@canopy/core/storage'].map((name) => ({ name, message: 'the renderer runs in a browser: import @canopy/core/app/contract or @canopy/core/compute/port, not an entry that reaches Node.' })),
          patterns: [{ group: ['node:*'], message: 'the renderer runs in a browser: no Node built-ins.' }],
        },
      ],
    },
  },
);
