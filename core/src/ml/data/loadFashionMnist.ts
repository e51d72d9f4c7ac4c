import { access } from 'node:fs/promises';
import { join } from 'node:path';
import type { DataSplit } from '../types.js';
import { decodeIdxDataset } from './decodeIdx.js';
import { readIdxFile } from './readIdxFile.js';

/** Where Debian's `dataset-fashion-mnist` package installs the gzipped IDX files. */
export const DEFAULT_FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

/** Fashion-MNIST's ten classes, in label order. */
export const FASHION_MNIST_CLASSES: readonly string[] = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];

const MISSING_HINT =
  "install Debian's dataset-fashion-mnist (apt-get install dataset-fashion-mnist) or set the dataset's path " +
  'to a directory holding train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and ' +
  't10k-labels-idx1-ubyte (each optionally .gz)';

/**
 * Loads Fashion-MNIST (60,000 training and 10,000 test images, 28×28 grey) from the four IDX
 * files in `dir`, gzipped or not. The official train/test split is kept as it is, so results
 * compare with published ones.
 */
export async function loadFashionMnist(dir: string = DEFAULT_FASHION_MNIST_DIR, opts: { signal?: AbortSignal } = {}): Promise<DataSplit> {
  const [trainImages, trainLabels, testImages, testLabels] = await Promise.all([
    locateIdxFile(dir, 'train-images-idx3-ubyte'),
    locateIdxFile(dir, 'train-labels-idx1-ubyte'),
    locateIdxFile(dir, 't10k-images-idx3-ubyte'),
    locateIdxFile(dir, 't10k-labels-idx1-ubyte'),
  ]);
  const read = (path: string): Promise<Uint8Array> => readIdxFile(path, { hint: MISSING_HINT, ...opts });
  // Read all four at once, but report the first failure in file order, not whichever read
  // happened to fail first: the error then names the same file on every run.
  const settled = await Promise.allSettled([read(trainImages), read(trainLabels), read(testImages), read(testLabels)]);
  const failed = settled.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
  const [a, b, c, d] = settled.map((r) => (r as PromiseFulfilledResult<Uint8Array>).value) as [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
  const classes = { numClasses: 10, classNames: FASHION_MNIST_CLASSES };
  return {
    name: 'fashion-mnist',
    train: decodeIdxDataset({ images: a, labels: b, imagesFile: trainImages, labelsFile: trainLabels }, classes),
    test: decodeIdxDataset({ images: c, labels: d, imagesFile: testImages, labelsFile: testLabels }, classes),
  };
}

/**
 * The path of `base` in `dir`: the uncompressed file if present (it is faster to read), else
 * `base.gz`. When neither exists it returns the `.gz` path, which is what Debian installs, so
 * that the "not found" error names the file a user is most likely missing.
 */
async function locateIdxFile(dir: string, base: string): Promise<string> {
  const plain = join(dir, base);
  try {
    await access(plain);
    return plain;
  } catch {
    return `${plain}.gz`;
  }
}
