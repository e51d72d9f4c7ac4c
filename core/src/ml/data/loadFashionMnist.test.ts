import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadDataset } from './loadDataset.js';
import { DEFAULT_FASHION_MNIST_DIR, FASHION_MNIST_CLASSES } from './loadFashionMnist.js';

// Debian's dataset-fashion-mnist; absent on machines that have not installed it.
const installed = existsSync(`${DEFAULT_FASHION_MNIST_DIR}/train-images-idx3-ubyte.gz`);

describe.skipIf(!installed)('loadFashionMnist (Debian dataset-fashion-mnist)', () => {
  it('loads the official 60,000/10,000 split with balanced classes', async () => {
    const { name, train, test } = await loadDataset({ kind: 'fashion-mnist', path: DEFAULT_FASHION_MNIST_DIR });
    expect(name).toBe('fashion-mnist');
    expect([train.count, test.count]).toEqual([60_000, 10_000]);
    for (const [part, d, perClass] of [['train', train, 6000], ['test', test, 1000]] as const) {
      expect(d.sampleShape, part).toEqual([28, 28, 1]);
      expect(d.features.length, part).toBe(d.count * 784);
      expect(d.classNames, part).toEqual(FASHION_MNIST_CLASSES);
      const h = new Array<number>(10).fill(0);
      for (const y of d.labels) h[y]!++;
      expect(h, part).toEqual(new Array(10).fill(perClass));
      let lo = Infinity;
      let hi = -Infinity;
      for (const x of d.features) {
        lo = Math.min(lo, x);
        hi = Math.max(hi, x);
      }
      expect([lo, hi], part).toEqual([0, 1]);
    }
    // The first training image of the official files is an ankle boot (label 9).
    expect(train.labels[0]).toBe(9);
  });
});
