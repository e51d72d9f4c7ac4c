import { describe, expect, it } from 'vitest';
import { ESLint } from 'eslint';
import { fileURLToPath } from 'node:url';

// The protocol core must stay pure (STYLE.md): this proves the lint rule that enforces it
// actually fires, using the repository's own eslint.config.js.
const root = fileURLToPath(new URL('../..', import.meta.url));
const eslint = new ESLint({ cwd: root });

async function problems(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: `${root}/${file}` });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('protocol purity lint rule', () => {
  it.each([
    ["import { createLibp2p } from 'libp2p';", /networking belongs/],
    ["import { gossipsub } from '@libp2p/gossipsub';", /networking belongs/],
    ["import * as tf from '@tensorflow/tfjs';", /tfjs belongs/],
    ["import { readFile } from 'node:fs/promises';", /no Node I\/O/],
    ["import { trainLocal } from '../ml/train.js';", /only the pure ML specs/],
    ["import { fetchBlob } from '../net/blobExchange.js';", /only the pure ML specs/],
  ])('rejects `%s` in core/src/protocol', async (code, message) => {
    const found = await problems('core/src/protocol/example.ts', `${code}\nexport const x = 1;\n`);
    expect(found.join('\n')).toMatch(message);
  });

  it.each([
    ["import { ModelSpec } from '../spec/ml.js';"],
    ["import type { LabeledData } from '../ml/types.js';"],
    ["import { z } from 'zod';"],
  ])('allows `%s` in core/src/protocol', async (code) => {
    expect(await problems('core/src/protocol/example.ts', `${code}\nexport const x = 1;\n`)).toEqual([]);
  });

  it('does not restrict the ML engine', async () => {
    expect(await problems('core/src/ml/example.ts', "import * as tf from '@tensorflow/tfjs';\nexport const x = tf;\n")).toEqual([]);
  });
});
