import { DataFileError } from '../../util/index.js';
import type { LabeledData } from '../types.js';

// Pure IDX decoding (the format of MNIST and Fashion-MNIST), from bytes already in memory, so
// a browser or Electron renderer can reuse it with bytes it fetched itself. Reading files and
// gunzipping live in readIdxFile.ts.

/** The IDX type byte for unsigned bytes, the only element type (Fashion-)MNIST uses. */
const IDX_UBYTE = 0x08;

/** A decoded IDX file: its dimensions and its raw unsigned-byte elements, row-major. */
export interface IdxArray {
  readonly dims: readonly number[];
  readonly data: Uint8Array;
}

/**
 * Decodes an unsigned-byte IDX file with `expectedRank` dimensions (1 for labels, 3 for
 * images). `file` names the source in error messages. The returned `data` is a view into
 * `bytes`, not a copy. Throws {@link DataFileError} on a wrong magic number, a truncated
 * header or body, trailing bytes, or a gzip stream that was not decompressed.
 */
export function decodeIdx(bytes: Uint8Array, file: string, expectedRank: number): IdxArray {
  const expectedMagic = hex32((IDX_UBYTE << 8) | expectedRank);
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    throw new DataFileError(file, 'is gzip-compressed; decompress it before decoding (the Node loader does this for you)');
  }
  if (bytes.length < 4) {
    throw new DataFileError(file, `is ${bytes.length} bytes long, too short for an IDX header; the file is truncated or empty`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0);
  if (magic !== ((IDX_UBYTE << 8) | expectedRank)) {
    throw new DataFileError(
      file,
      `has magic number ${hex32(magic)}, expected ${expectedMagic} (unsigned-byte IDX with ${expectedRank} dimension(s)); ` +
        'it is not the IDX file this name promises, or it is corrupt',
    );
  }
  const headerBytes = 4 + 4 * expectedRank;
  if (bytes.length < headerBytes) {
    throw new DataFileError(file, `expected a ${headerBytes}-byte IDX header, found ${bytes.length} bytes; the file is truncated`);
  }
  const dims: number[] = [];
  for (let d = 0; d < expectedRank; d++) dims.push(view.getUint32(4 + 4 * d));
  if (dims.some((n) => n === 0)) {
    throw new DataFileError(file, `has an empty dimension (${dims.join('×')}); it holds no data`);
  }
  const dataBytes = dims.reduce((a, b) => a * b, 1);
  const expectedTotal = headerBytes + dataBytes;
  if (bytes.length < expectedTotal) {
    throw new DataFileError(
      file,
      `expected ${expectedTotal} bytes (${headerBytes}-byte header + ${dims.join('×')} data), found ${bytes.length}; ` +
        'the file is truncated, download it again',
    );
  }
  if (bytes.length > expectedTotal) {
    throw new DataFileError(
      file,
      `expected ${expectedTotal} bytes (${headerBytes}-byte header + ${dims.join('×')} data), found ${bytes.length}; ` +
        'the header does not match the data, so the file is corrupt',
    );
  }
  return { dims, data: bytes.subarray(headerBytes, expectedTotal) };
}

/** The bytes of an image IDX file and its matching label IDX file, with names for errors. */
export interface IdxPair {
  readonly images: Uint8Array;
  readonly labels: Uint8Array;
  readonly imagesFile: string;
  readonly labelsFile: string;
}

/** Class count and optional names for {@link decodeIdxDataset}. */
export interface IdxClasses {
  readonly numClasses: number;
  readonly classNames?: readonly string[];
}

/**
 * Decodes a pair of IDX files (images n×rows×cols, labels n) into a dataset of
 * [rows, cols, 1] samples with pixels scaled to [0, 1]. Checks that the counts agree and that
 * every label is a valid class.
 */
export function decodeIdxDataset(pair: IdxPair, classes: IdxClasses): LabeledData {
  const images = decodeIdx(pair.images, pair.imagesFile, 3);
  const labels = decodeIdx(pair.labels, pair.labelsFile, 1);
  const [count, rows, cols] = images.dims as [number, number, number];
  if (labels.dims[0] !== count) {
    throw new DataFileError(
      pair.labelsFile,
      `has ${labels.dims[0]} labels but ${pair.imagesFile} has ${count} images; the two files are from different sets`,
    );
  }
  const outLabels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const y = labels.data[i]!;
    if (y >= classes.numClasses) {
      throw new DataFileError(pair.labelsFile, `label ${y} of sample ${i} is outside 0..${classes.numClasses - 1}; the file is corrupt`);
    }
    outLabels[i] = y;
  }
  // A 256-entry table turns the per-pixel division into a lookup, on 47M pixels.
  const scale = new Float32Array(256);
  for (let v = 0; v < 256; v++) scale[v] = v / 255;
  const features = new Float32Array(images.data.length);
  for (let i = 0; i < features.length; i++) features[i] = scale[images.data[i]!]!;
  return {
    features,
    labels: outLabels,
    sampleShape: [rows, cols, 1],
    numClasses: classes.numClasses,
    count,
    ...(classes.classNames ? { classNames: [...classes.classNames] } : {}),
  };
}

function hex32(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}
