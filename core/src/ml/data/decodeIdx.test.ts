import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataFileError } from '../../util/index.js';
import { decodeIdx, decodeIdxDataset } from './decodeIdx.js';
import { loadFashionMnist } from './loadFashionMnist.js';
import { readIdxFile } from './readIdxFile.js';

/** An unsigned-byte IDX file with the given dimensions and data (magic overridable). */
function idx(dims: number[], data: ArrayLike<number>, magic = 0x0800 | dims.length): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, magic);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

const pixels = Array.from({ length: 3 * 2 * 2 }, (_, i) => (i * 23) % 256);
const goodImages = idx([3, 2, 2], pixels);
const goodLabels = idx([3], [2, 0, 1]);

describe('decodeIdx', () => {
  const cases: { name: string; bytes: Uint8Array; rank: number; error?: RegExp }[] = [
    { name: 'good images', bytes: goodImages, rank: 3 },
    { name: 'good labels', bytes: goodLabels, rank: 1 },
    { name: 'empty file', bytes: new Uint8Array(0), rank: 1, error: /0 bytes long, too short for an IDX header/ },
    { name: 'wrong magic (labels read as images)', bytes: goodLabels, rank: 3, error: /magic number 0x00000801, expected 0x00000803/ },
    { name: 'wrong element type', bytes: idx([3], [1, 2, 3], 0x0d01), rank: 1, error: /magic number 0x00000d01, expected 0x00000801/ },
    { name: 'garbage', bytes: new TextEncoder().encode('<html>not found</html>'), rank: 1, error: /magic number 0x3c68746d/ },
    { name: 'gzip not decompressed', bytes: gzipSync(goodLabels), rank: 1, error: /is gzip-compressed/ },
    { name: 'truncated header', bytes: goodImages.subarray(0, 10), rank: 3, error: /expected a 16-byte IDX header, found 10 bytes/ },
    {
      name: 'truncated body',
      bytes: goodImages.subarray(0, 20),
      rank: 3,
      error: /expected 28 bytes \(16-byte header \+ 3×2×2 data\), found 20; the file is truncated/,
    },
    { name: 'trailing bytes', bytes: idx([2], [1, 2, 3]), rank: 1, error: /expected 10 bytes .* found 11; .* corrupt/ },
    { name: 'zero dimension', bytes: idx([0, 28, 28], []), rank: 3, error: /empty dimension \(0×28×28\)/ },
  ];
  for (const c of cases) {
    it(c.name, () => {
      if (c.error) {
        const err = captureError(() => decodeIdx(c.bytes, 'x.idx', c.rank));
        expect(err, c.name).toBeInstanceOf(DataFileError);
        expect((err as DataFileError).file, c.name).toBe('x.idx');
        expect((err as Error).message, c.name).toMatch(/^x\.idx: /);
        expect((err as Error).message, c.name).toMatch(c.error);
      } else {
        const out = decodeIdx(c.bytes, 'x.idx', c.rank);
        expect(out.dims.length, c.name).toBe(c.rank);
        expect(out.data.length, c.name).toBe(out.dims.reduce((a, b) => a * b, 1));
      }
    });
  }

  it('returns the data bytes after the header, unchanged', () => {
    const out = decodeIdx(goodImages, 'x', 3);
    expect(out.dims).toEqual([3, 2, 2]);
    expect([...out.data]).toEqual(pixels);
  });
});

describe('decodeIdxDataset', () => {
  const pair = { images: goodImages, labels: goodLabels, imagesFile: 'img', labelsFile: 'lbl' };

  it('scales pixels to [0, 1] and shapes samples as [rows, cols, 1]', () => {
    const d = decodeIdxDataset(pair, { numClasses: 3, classNames: ['a', 'b', 'c'] });
    expect(d.count).toBe(3);
    expect(d.sampleShape).toEqual([2, 2, 1]);
    expect([...d.labels]).toEqual([2, 0, 1]);
    expect(d.classNames).toEqual(['a', 'b', 'c']);
    pixels.forEach((p, i) => expect(d.features[i], `pixel ${i}`).toBeCloseTo(p / 255, 6));
  });

  it('rejects image and label files of different lengths, naming the labels file', () => {
    expect(() => decodeIdxDataset({ ...pair, labels: idx([2], [0, 1]) }, { numClasses: 3 })).toThrow(
      /^lbl: has 2 labels but img has 3 images/,
    );
  });

  it('rejects a label outside the class range', () => {
    expect(() => decodeIdxDataset(pair, { numClasses: 2 })).toThrow(/^lbl: label 2 of sample 0 is outside 0\.\.1/);
  });
});

describe('readIdxFile and loadFashionMnist on small files', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'canopy-idx-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads gzipped and plain files to the same bytes, whatever the name', async () => {
    await writeFile(join(dir, 'plain'), goodImages);
    await writeFile(join(dir, 'zipped.gz'), gzipSync(goodImages));
    await writeFile(join(dir, 'zipped-without-suffix'), gzipSync(goodImages));
    for (const name of ['plain', 'zipped.gz', 'zipped-without-suffix']) {
      expect([...(await readIdxFile(join(dir, name)))], name).toEqual([...goodImages]);
    }
  });

  it('names a truncated gzip file and says it is corrupt', async () => {
    const file = join(dir, 'cut.gz');
    const gz = gzipSync(idx([1000], new Uint8Array(1000)));
    await writeFile(file, gz.subarray(0, gz.length - 12));
    await expect(readIdxFile(file)).rejects.toThrow(new RegExp(`^${file}: is not a valid gzip file .*truncated or corrupt`));
  });

  it('names a missing file', async () => {
    const file = join(dir, 'nope');
    await expect(readIdxFile(file, { hint: 'do X' })).rejects.toThrow(`${file}: not found; do X`);
  });

  it('loads a directory mixing plain and gzipped files, and names a file with a bad label', async () => {
    const sub = await mkdtemp(join(dir, 'fm-'));
    await writeFile(join(sub, 'train-images-idx3-ubyte.gz'), gzipSync(goodImages));
    await writeFile(join(sub, 'train-labels-idx1-ubyte'), goodLabels);
    await writeFile(join(sub, 't10k-images-idx3-ubyte'), idx([1, 2, 2], [0, 255, 0, 255]));
    await writeFile(join(sub, 't10k-labels-idx1-ubyte.gz'), gzipSync(idx([1], [9])));
    const split = await loadFashionMnist(sub);
    expect([split.train.count, split.test.count]).toEqual([3, 1]);
    expect(split.test.labels[0]).toBe(9);
    expect(split.test.classNames?.[9]).toBe('Ankle boot');

    await writeFile(join(sub, 't10k-labels-idx1-ubyte.gz'), gzipSync(idx([1], [10])));
    await expect(loadFashionMnist(sub)).rejects.toThrow(/t10k-labels-idx1-ubyte\.gz: label 10 of sample 0 is outside 0\.\.9/);
  });

  it('says how to get Fashion-MNIST when the directory lacks it', async () => {
    const err = await loadFashionMnist(join(dir, 'missing')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataFileError);
    expect((err as Error).message).toMatch(/train-images-idx3-ubyte\.gz: not found; install Debian's dataset-fashion-mnist/);
  });
});

function captureError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected an error, none was thrown');
}
