import { describe, expect, it } from 'vitest';
import { BadInputError } from '../../util/index.js';
import type { LabeledData } from '../types.js';
import { splitTrainTest } from './splitTrainTest.js';
import { subset } from './subset.js';

/** n samples of shape [2]; sample i is (i, -i), so features identify their row. */
function table(labels: number[], numClasses: number): LabeledData {
  const features = new Float32Array(labels.length * 2);
  labels.forEach((_, i) => features.set([i, -i], 2 * i));
  return { features, labels: Int32Array.from(labels), sampleShape: [2], numClasses, count: labels.length, classNames: ['a', 'b', 'c'].slice(0, numClasses) };
}

describe('subset', () => {
  const data = table([0, 1, 2, 1], 3);

  it('copies the chosen rows in the given order, keeping class metadata', () => {
    const s = subset(data, [3, 0]);
    expect([...s.features]).toEqual([3, -3, 0, -0]);
    expect([...s.labels]).toEqual([1, 0]);
    expect([s.count, s.numClasses, s.sampleShape, s.classNames]).toEqual([2, 3, [2], ['a', 'b', 'c']]);
    s.features[0] = 99;
    expect(data.features[6], 'the subset must not alias the source').toBe(3);
  });

  it('rejects an index outside the dataset', () => {
    for (const bad of [-1, 4, 1.5]) expect(() => subset(data, [0, bad]), `index ${bad}`).toThrow(/position 1 is outside 0\.\.3/);
  });
});

describe('splitTrainTest', () => {
  // 60 of class a, 30 of b, 10 of c.
  const labels = [...Array(60).fill(0), ...Array(30).fill(1), ...Array(10).fill(2)] as number[];
  const data = table(labels, 3);

  it('holds out testFraction of each class, disjointly and covering every sample', () => {
    const { train, test } = splitTrainTest(data, 0.2, 1);
    expect([train.count, test.count]).toEqual([80, 20]);
    const perClass = (d: LabeledData): number[] => [0, 1, 2].map((k) => d.labels.filter((y) => y === k).length);
    expect(perClass(test)).toEqual([12, 6, 2]);
    const rows = [...train.features.filter((_, i) => i % 2 === 0), ...test.features.filter((_, i) => i % 2 === 0)].sort((a, b) => a - b);
    expect(rows).toEqual(labels.map((_, i) => i));
    for (const d of [train, test]) {
      for (let i = 0; i < d.count; i++) expect(d.labels[i], `row ${d.features[2 * i]}`).toBe(labels[d.features[2 * i]!]);
    }
  });

  it('depends on the seed and only on the seed', () => {
    const a = splitTrainTest(data, 0.3, 5).test.features;
    expect([...splitTrainTest(data, 0.3, 5).test.features]).toEqual([...a]);
    expect([...splitTrainTest(data, 0.3, 6).test.features]).not.toEqual([...a]);
  });

  it('keeps at least one sample on each side', () => {
    const two = table([0, 1], 2);
    for (const f of [0.01, 0.99]) {
      const { train, test } = splitTrainTest(two, f, 1);
      expect([train.count, test.count], `testFraction ${f}`).toEqual([1, 1]);
    }
  });

  it('rejects a fraction outside (0, 1) and a dataset too small to split', () => {
    for (const f of [0, 1, -0.5, NaN]) expect(() => splitTrainTest(data, f, 1), `testFraction ${f}`).toThrow(BadInputError);
    expect(() => splitTrainTest(table([0], 1), 0.5, 1, 'tiny.csv')).toThrow(/^tiny\.csv: has 1 sample\(s\); a train\/test split needs at least 2/);
  });
});
