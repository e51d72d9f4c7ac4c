import type { DatasetSpec } from '../../spec/ml.js';
import type { DataSplit } from '../types.js';
import { loadCsv } from './loadCsv.js';
import { loadFashionMnist } from './loadFashionMnist.js';
import { loadMnist } from './loadMnist.js';

/** Options of {@link loadDataset}. */
export interface LoadDatasetOptions {
  /** Seed of any train/test split the dataset needs. Default 0. */
  readonly seed?: number;
  readonly signal?: AbortSignal;
}

/** Loads the dataset a job sheet names (Node only: it reads files). */
export async function loadDataset(spec: DatasetSpec, opts: LoadDatasetOptions = {}): Promise<DataSplit> {
  const seed = opts.seed ?? 0;
  const signal = opts.signal ? { signal: opts.signal } : {};
  switch (spec.kind) {
    case 'mnist':
      return loadMnist({ testFraction: spec.testFraction, seed, ...signal });
    case 'fashion-mnist':
      return loadFashionMnist(spec.path, signal);
    case 'csv':
      return loadCsv(spec.path, { labelColumn: spec.labelColumn, testFraction: spec.testFraction, seed, ...signal });
  }
}
