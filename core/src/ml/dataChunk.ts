import type { PartitionSpec } from '../spec/ml.js';
import type { DataSplit, LabeledData } from './types.js';
import { partition } from './data/partition.js';
import { subset, sampleSize } from './data/subset.js';
import { BadInputError } from '../util/errors.js';

// A dataset chunk is what a distributor serves to one member: that member's training part
// and test part of the job's dataset, as one content-addressed blob. Layout (little-endian):
//
//   0   8 bytes  magic "CNPYDATA"
//   8   u32      format version (1)
//   12  u32      header length H in bytes
//   16  H bytes  header, UTF-8 JSON: {name, sampleShape, numClasses, classNames?, train: n, test: m}
//   ..           zero padding to a multiple of 4
//   ..           train features f32[n·S], train labels i32[n], test features f32[m·S], test labels i32[m]
//
// where S is the product of sampleShape. The blob's sha256 address already guards
// integrity; decoding still checks every length and label so a hostile distributor can at
// worst be refused, never crash a client.

const MAGIC = 'CNPYDATA';
const VERSION = 1;

interface ChunkHeader {
  name: string;
  sampleShape: number[];
  numClasses: number;
  classNames?: string[];
  train: number;
  test: number;
}

/** Encodes a member's data split as a chunk. */
export function encodeDataChunk(split: DataSplit): Uint8Array {
  const { train, test } = split;
  if (train.sampleShape.join() !== test.sampleShape.join() || train.numClasses !== test.numClasses) {
    throw new BadInputError('encodeDataChunk: train and test parts differ in sample shape or classes');
  }
  const header: ChunkHeader = {
    name: split.name,
    sampleShape: [...train.sampleShape],
    numClasses: train.numClasses,
    ...(train.classNames ? { classNames: [...train.classNames] } : {}),
    train: train.count,
    test: test.count,
  };
  const headerBytes = new TextEncoder().encode(JSON.stringify(header));
  const bodyStart = align4(16 + headerBytes.byteLength);
  const s = sampleSize(train.sampleShape);
  const total = bodyStart + 4 * (train.count * s + train.count + test.count * s + test.count);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  out.set(new TextEncoder().encode(MAGIC), 0);
  view.setUint32(8, VERSION, true);
  view.setUint32(12, headerBytes.byteLength, true);
  out.set(headerBytes, 16);
  let at = bodyStart;
  for (const part of [train, test]) {
    at = put(out, at, part.features.subarray(0, part.count * s));
    at = put(out, at, part.labels.subarray(0, part.count));
  }
  return out;
}

/** Decodes a chunk; throws {@link BadInputError} saying what is wrong with a malformed one. */
export function decodeDataChunk(bytes: Uint8Array): DataSplit {
  if (bytes.byteLength < 16 || new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) {
    throw new BadInputError('dataset chunk: not a Canopy dataset chunk (bad magic)');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version !== VERSION) throw new BadInputError(`dataset chunk: format version ${version} is not supported (expected ${VERSION})`);
  const headerLength = view.getUint32(12, true);
  if (16 + headerLength > bytes.byteLength) throw new BadInputError('dataset chunk: truncated header');
  let header: ChunkHeader;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + headerLength))) as ChunkHeader;
  } catch {
    throw new BadInputError('dataset chunk: header is not JSON');
  }
  const okShape = Array.isArray(header.sampleShape) && header.sampleShape.length >= 1 && header.sampleShape.every((d) => Number.isInteger(d) && d > 0 && d < 1e6);
  const okCounts = [header.train, header.test].every((n) => Number.isInteger(n) && n >= 0);
  if (!okShape || !okCounts || !Number.isInteger(header.numClasses) || header.numClasses < 2) {
    throw new BadInputError('dataset chunk: header has an invalid sample shape, count or class count');
  }
  const s = sampleSize(header.sampleShape);
  const bodyStart = align4(16 + headerLength);
  const expected = bodyStart + 4 * (header.train * (s + 1) + header.test * (s + 1));
  if (bytes.byteLength !== expected) throw new BadInputError(`dataset chunk: expected ${expected} bytes for ${header.train}+${header.test} samples, found ${bytes.byteLength}`);
  // Copy once into an aligned buffer so typed-array views are valid whatever the input's offset.
  const body = bytes.slice(bodyStart).buffer;
  let at = 0;
  const take = (n: number, kind: 'f32' | 'i32') => {
    const arr = kind === 'f32' ? new Float32Array(body, at, n) : new Int32Array(body, at, n);
    at += 4 * n;
    return arr;
  };
  const part = (n: number): LabeledData => {
    const features = take(n * s, 'f32') as Float32Array;
    const labels = take(n, 'i32') as Int32Array;
    for (let i = 0; i < n; i++) {
      const y = labels[i]!;
      if (!(y >= 0 && y < header.numClasses)) throw new BadInputError(`dataset chunk: label ${y} of sample ${i} is outside 0..${header.numClasses - 1}`);
    }
    return { features, labels, sampleShape: header.sampleShape, numClasses: header.numClasses, count: n, ...(header.classNames ? { classNames: header.classNames } : {}) };
  };
  const train = part(header.train);
  const test = part(header.test);
  return { name: String(header.name), train, test };
}

/**
 * Splits a dataset into one chunk per member, as a job's manifest asks: the training set by
 * `spec` (IID, Dirichlet, shards, quantity), the test set IID, so that the sample-weighted
 * mean of the members' test metrics is the metric over the whole test set. `members` must
 * be in a deterministic order (the job tree's); the result follows it.
 */
export function splitForMembers(data: DataSplit, members: readonly string[], spec: PartitionSpec, seed: number): Map<string, DataSplit> {
  const trainParts = partition(data.train.labels, data.train.numClasses, members.length, spec, seed);
  const testParts = partition(data.test.labels, data.test.numClasses, members.length, { kind: 'iid' }, seed + 1);
  const out = new Map<string, DataSplit>();
  members.forEach((m, i) => {
    out.set(m, { name: `${data.name} [${m}]`, train: subset(data.train, trainParts[i]!), test: subset(data.test, testParts[i]!) });
  });
  return out;
}

function put(out: Uint8Array, at: number, arr: Float32Array | Int32Array): number {
  out.set(new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength), at);
  return at + arr.byteLength;
}

function align4(n: number): number {
  return (n + 3) & ~3;
}
