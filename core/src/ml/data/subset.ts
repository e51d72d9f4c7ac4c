import type { LabeledData } from '../types.js';

/** Number of values one sample occupies in `features`: the product of its shape. */
export function sampleSize(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * The samples of `data` at `indices`, in that order, as a new dataset with its own copies of
 * the features and labels (so a client's shard can be handed to a worker thread or freed
 * independently of the full dataset). Class count and names are kept, even for classes the
 * subset lacks, so every client's model has the same output layer.
 */
export function subset(data: LabeledData, indices: ArrayLike<number>): LabeledData {
  const size = sampleSize(data.sampleShape);
  const n = indices.length;
  const features = new Float32Array(n * size);
  const labels = new Int32Array(n);
  for (let j = 0; j < n; j++) {
    const i = indices[j]!;
    if (!Number.isInteger(i) || i < 0 || i >= data.count) {
      throw new RangeError(`subset: index ${i} at position ${j} is outside 0..${data.count - 1}`);
    }
    features.set(data.features.subarray(i * size, (i + 1) * size), j * size);
    labels[j] = data.labels[i]!;
  }
  return {
    features,
    labels,
    sampleShape: [...data.sampleShape],
    numClasses: data.numClasses,
    count: n,
    ...(data.classNames ? { classNames: [...data.classNames] } : {}),
  };
}
