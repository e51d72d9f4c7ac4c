import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeDataChunk, encodeDataChunk, splitForMembers } from './dataChunk.js';
import type { DataSplit, LabeledData } from './types.js';

function data(n: number, shape: number[], classes: number, offset = 0): LabeledData {
  const s = shape.reduce((a, b) => a * b, 1);
  return {
    features: Float32Array.from({ length: n * s }, (_, i) => (i + offset) / 7),
    labels: Int32Array.from({ length: n }, (_, i) => (i + offset) % classes),
    sampleShape: shape,
    numClasses: classes,
    count: n,
  };
}

describe('dataset chunks', () => {
  it('round-trips any split exactly (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 40 }), fc.constantFrom([4], [2, 3], [3, 3, 1]), fc.string({ maxLength: 30 }), (n, m, shape, name) => {
        const split: DataSplit = { name, train: data(n, shape, 3), test: data(m, shape, 3, 5) };
        const back = decodeDataChunk(encodeDataChunk(split));
        expect(back.name).toBe(name);
        expect(Array.from(back.train.features)).toEqual(Array.from(split.train.features));
        expect(Array.from(back.test.labels)).toEqual(Array.from(split.test.labels));
        expect(back.train.sampleShape).toEqual(shape);
      }),
      { seed: 11, numRuns: 60 },
    );
  });

  const good = encodeDataChunk({ name: 'x', train: data(5, [4], 3), test: data(2, [4], 3) });
  const corrupt = (f: (b: Uint8Array) => void) => {
    const b = good.slice();
    f(b);
    return b;
  };
  const labelAt = good.byteLength - 4; // the last test label
  it.each<[string, Uint8Array, RegExp]>([
    ['empty', new Uint8Array(0), /bad magic/],
    ['wrong magic', corrupt((b) => (b[0] = 0x41)), /bad magic/],
    ['future version', corrupt((b) => (b[8] = 9)), /version 9/],
    ['truncated body', good.subarray(0, good.byteLength - 3), /expected \d+ bytes/],
    ['trailing bytes', new Uint8Array([...good, 0, 0, 0, 0]), /expected \d+ bytes/],
    ['label out of range', corrupt((b) => new DataView(b.buffer).setInt32(labelAt, 7, true)), /label 7/],
    ['header too long', corrupt((b) => new DataView(b.buffer).setUint32(12, 1e9, true)), /truncated header/],
  ])('rejects a chunk with %s', (_name, bytes, message) => {
    expect(() => decodeDataChunk(bytes)).toThrow(message);
  });

  it('splits train by the partition spec and test IID, covering every sample once', () => {
    const full: DataSplit = { name: 'd', train: data(100, [2], 4), test: data(30, [2], 4) };
    const members = ['c1', 'c2', 'c3'];
    const parts = splitForMembers(full, members, { kind: 'dirichlet', alpha: 0.3 }, 5);
    expect([...parts.keys()]).toEqual(members);
    const trainTotal = [...parts.values()].reduce((a, p) => a + p.train.count, 0);
    const testTotal = [...parts.values()].reduce((a, p) => a + p.test.count, 0);
    expect(trainTotal).toBe(100);
    expect(testTotal).toBe(30);
    const again = splitForMembers(full, members, { kind: 'dirichlet', alpha: 0.3 }, 5);
    expect(Array.from(again.get('c2')!.train.labels)).toEqual(Array.from(parts.get('c2')!.train.labels));
  });
});
