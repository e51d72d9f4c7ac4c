import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataFileError } from '../../util/index.js';
import type { LabeledData } from '../types.js';
import { decodeMnistDigitFile, decodeMnistDigits } from './decodeMnistDigits.js';
import { loadMnist, mnistDigitsDir } from './loadMnist.js';

// Per-digit counts of the mnist package's 10,000 digits, as its files hold them.
const DIGIT_COUNTS = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978];

describe('loadMnist (the real embedded digits)', () => {
  it('loads 10,000 28×28 digits, split 80/20 and stratified by digit', async () => {
    const { name, train, test } = await loadMnist();
    expect(name).toBe('mnist');
    expect([train.count, test.count]).toEqual([8000, 2000]);
    for (const [part, d] of [['train', train], ['test', test]] as const) {
      expect(d.sampleShape, part).toEqual([28, 28, 1]);
      expect(d.features.length, part).toBe(d.count * 784);
      expect(d.labels.length, part).toBe(d.count);
      expect(d.numClasses, part).toBe(10);
      expect(d.classNames, part).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
      expect(Math.min(...d.labels), part).toBe(0);
      expect(Math.max(...d.labels), part).toBe(9);
      expect(minMax(d.features), part).toEqual([0, 1]);
    }
    const perDigit = (d: LabeledData): number[] => histogram(d.labels, 10);
    const total = perDigit(train).map((n, k) => n + perDigit(test)[k]!);
    expect(total).toEqual(DIGIT_COUNTS);
    // Stratified: each digit's test share is within one sample of 20%.
    perDigit(test).forEach((n, k) => expect(Math.abs(n - DIGIT_COUNTS[k]! * 0.2), `digit ${k}`).toBeLessThanOrEqual(1));
  });

  it('is shuffled, not grouped by digit as the files are', async () => {
    const { train } = await loadMnist();
    expect(new Set(train.labels.subarray(0, 50)).size).toBeGreaterThan(5);
  });

  it('gives the same split for the same seed and a different one for another seed', async () => {
    const [a, b, c] = await Promise.all([loadMnist({ seed: 7 }), loadMnist({ seed: 7 }), loadMnist({ seed: 8 })]);
    // Byte comparison: toEqual walks 1.5M floats one by one and takes seconds.
    expect(sameBytes(a.test.labels, b.test.labels)).toBe(true);
    expect(sameBytes(a.test.features, b.test.features)).toBe(true);
    expect(sameBytes(a.train.features, b.train.features)).toBe(true);
    expect(sameBytes(a.test.labels, c.test.labels)).toBe(false);
  });

  it('honours testFraction', async () => {
    const { train, test } = await loadMnist({ testFraction: 0.5 });
    expect([train.count, test.count]).toEqual([5000, 5000]);
  });

  it('decodes pixels exactly as the package stores them', async () => {
    const file = join(mnistDigitsDir(), '3.json');
    const text = await readFile(file, 'utf8');
    const expected = (JSON.parse(text) as { data: number[] }).data;
    const got = decodeMnistDigitFile(new TextEncoder().encode(text), file);
    expect(got.length).toBe(expected.length);
    const firstDiff = expected.findIndex((x, i) => Math.fround(x) !== got[i]);
    expect(firstDiff, `first differing value at ${firstDiff}`).toBe(-1);
  });
});

describe('decodeMnistDigitFile on bad input', () => {
  const image = Array.from({ length: 784 }, (_, i) => (i % 7 === 0 ? '0.5' : '0')).join(',');
  const cases: { name: string; text: string; error?: RegExp }[] = [
    { name: 'one image', text: `{ "data": [${image}] }` },
    { name: 'whitespace and newlines', text: `{\n  "data": [\n${image.replaceAll(',', ', ')}\n]\n}` },
    { name: 'not JSON', text: 'hello', error: /has no "data" array/ },
    { name: 'other key', text: `{ "pixels": [${image}] }`, error: /has no "data" array/ },
    { name: 'truncated', text: `{ "data": [${image}`, error: /truncated/ },
    { name: 'partial image', text: '{ "data": [0,0,0] }', error: /has 3 values, not a whole number of 28×28 images/ },
    { name: 'empty', text: '{ "data": [] }', error: /has 0 values/ },
    { name: 'negative value', text: `{ "data": [-0.5,${image}] }`, error: /unexpected character "-" at byte 11/ },
    { name: 'value above 1', text: `{ "data": [2,${image}] }`, error: /pixel value 2 at value 0, outside \[0, 1\]/ },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const run = (): Float32Array => decodeMnistDigitFile(new TextEncoder().encode(c.text), '5.json');
      if (!c.error) {
        const px = run();
        expect(px.length, c.name).toBe(784);
        expect(px[0], c.name).toBe(0.5);
        expect(px[1], c.name).toBe(0);
        return;
      }
      expect(run, c.name).toThrow(DataFileError);
      expect(run, c.name).toThrow(/^5\.json: /);
      expect(run, c.name).toThrow(c.error);
    });
  }

  it('needs all ten digits, once each', () => {
    const bytes = new TextEncoder().encode(`{"data":[${new Array(784).fill(0).join(',')}]}`);
    const files = [...Array(10).keys()].map((digit) => ({ digit, bytes, file: `${digit}.json` }));
    expect(decodeMnistDigits(files).count).toBe(10);
    expect(() => decodeMnistDigits(files.slice(0, 9))).toThrow(/digit files for 9 are missing/);
    expect(() => decodeMnistDigits([...files, files[3]!])).toThrow(/^3\.json: claims digit 3, which is not a unique digit/);
  });
});

function sameBytes(a: ArrayBufferView, b: ArrayBufferView): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

function histogram(labels: Int32Array, k: number): number[] {
  const h = new Array<number>(k).fill(0);
  for (const y of labels) h[y]!++;
  return h;
}

function minMax(xs: Float32Array): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const x of xs) {
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  return [lo, hi];
}
