import { basename } from 'node:path';
import { DataFileError } from '../../util/index.js';
import type { DataSplit } from '../types.js';
import { decodeCsv } from './decodeCsv.js';
import { readDataFile } from './readDataFile.js';
import { splitTrainTest } from './splitTrainTest.js';

/** Options of {@link loadCsv}. */
export interface LoadCsvOptions {
  readonly labelColumn: string;
  /** Fraction of rows held out for testing, stratified by class. Default 0.2. */
  readonly testFraction?: number;
  /** Seed of the train/test split. Default 0. */
  readonly seed?: number;
  readonly signal?: AbortSignal;
}

/** Loads a CSV table (see {@link decodeCsv}) and splits it into seeded, stratified train and test parts. */
export async function loadCsv(path: string, opts: LoadCsvOptions): Promise<DataSplit> {
  const bytes = await readDataFile(path, opts.signal ? { signal: opts.signal } : {});
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (err) {
    throw new DataFileError(path, 'is not valid UTF-8 text; save the table as UTF-8 CSV', { cause: err });
  }
  const data = decodeCsv(text, { file: path, labelColumn: opts.labelColumn });
  const { train, test } = splitTrainTest(data, opts.testFraction ?? 0.2, opts.seed ?? 0, path);
  return { name: `csv:${basename(path)}`, train, test };
}
