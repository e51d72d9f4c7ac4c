#!/usr/bin/env node
// Entry point of the `canopy` command. The TypeScript sources are compiled to ../dist by
// `npm ci` (the root `prepare` script) or `npm run build`.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  process.stderr.write('canopy: the CLI is not built yet. Run `npm ci` (or `npm run build`) in the repository root first.\n');
  process.exit(1);
}
await import(main.href);
