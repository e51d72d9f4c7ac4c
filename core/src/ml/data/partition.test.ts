import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BadInputError, Rng } from '../../util/index.js';
import type { PartitionSpec } from '../../spec/ml.js';
import { partition } from './partition.js';
import { partitionStats } from './partitionStats.js';

/** Labels of n samples over k classes, class sizes uneven, order random. */
function makeLabels(n: number, k: number, seed = 1): Int32Array {
  const labels = Int32Array.from({ length: n }, (_, i) => Math.floor(((i * i) / n / n) * k) % k);
  Rng.fromSeed(seed).shuffle(labels);
  return labels;
}

/** Fails with `what` unless the parts use each index in 0..n-1 exactly once and none is empty. */
function expectExactCover(parts: Int32Array[], n: number, what: string): void {
  const seen = new Uint8Array(n);
  parts.forEach((part, c) => {
    expect(part.length, `${what}: client ${c} is empty`).toBeGreaterThan(0);
    for (const i of part) {
      expect(i >= 0 && i < n, `${what}: client ${c} has index ${i} outside 0..${n - 1}`).toBe(true);
      expect(seen[i], `${what}: index ${i} given twice (again to client ${c})`).toBe(0);
      seen[i] = 1;
    }
  });
  const missing = seen.indexOf(0);
  expect(missing, `${what}: index ${missing} given to nobody`).toBe(-1);
}

const specs: PartitionSpec[] = [
  { kind: 'iid' },
  { kind: 'dirichlet', alpha: 0.1 },
  { kind: 'dirichlet', alpha: 100 },
  { kind: 'shards', classesPerClient: 2 },
  { kind: 'quantity', alpha: 0.5 },
];
const labels = makeLabels(6000, 10);
const name = (s: PartitionSpec): string => JSON.stringify(s);

describe('partition', () => {
  for (const spec of specs) {
    describe(name(spec), () => {
      it('uses every index exactly once, and gives every client some', () => {
        // Shards need clients × classesPerClient >= 10 classes, so a lone client cannot take them.
        const sizes = spec.kind === 'shards' ? [5, 7, 100] : [1, 7, 100];
        for (const clients of sizes) expectExactCover(partition(labels, 10, clients, spec, 3), labels.length, `${clients} clients`);
      });

      it('returns each part in ascending order', () => {
        partition(labels, 10, 20, spec, 3).forEach((p, c) => expect([...p], `client ${c}`).toEqual([...p].sort((a, b) => a - b)));
      });

      it('is a function of the seed', () => {
        const a = partition(labels, 10, 20, spec, 42);
        expect(partition(labels, 10, 20, spec, 42)).toEqual(a);
        expect(partition(labels, 10, 20, spec, 43)).not.toEqual(a);
      });
    });
  }

  it('iid: client sizes differ by at most one and label skew is small', () => {
    const stats = partitionStats(partition(labels, 10, 30, { kind: 'iid' }, 1), labels, 10);
    expect(stats.maxCount - stats.minCount).toBeLessThanOrEqual(1);
    expect(stats.labelSkew).toBeLessThan(0.15);
  });

  it('dirichlet: a small alpha skews labels far more than a large one', () => {
    const skew = (alpha: number): number => partitionStats(partition(labels, 10, 50, { kind: 'dirichlet', alpha }, 5), labels, 10).labelSkew;
    const [tiny, small, large] = [skew(0.05), skew(0.5), skew(1000)];
    expect(tiny, `alpha 0.05 skew ${tiny} vs alpha 0.5 skew ${small}`).toBeGreaterThan(small);
    expect(small, `alpha 0.5 skew ${small} vs alpha 1000 skew ${large}`).toBeGreaterThan(large + 0.2);
    expect(large).toBeLessThan(0.1);
  });

  it('dirichlet: gives every client a sample even when alpha is tiny and clients outnumber what the draw fills', () => {
    const few = makeLabels(60, 3);
    for (const seed of [1, 2, 3, 4, 5]) {
      expectExactCover(partition(few, 3, 50, { kind: 'dirichlet', alpha: 0.001 }, seed), few.length, `seed ${seed}`);
    }
  });

  it('shards: each client holds at most classesPerClient classes, in near-equal shards', () => {
    for (const [clients, classesPerClient] of [[100, 2], [5, 2], [10, 1], [3, 4], [40, 3]] as const) {
      const spec = { kind: 'shards', classesPerClient } as const;
      const parts = partition(labels, 10, clients, spec, 9);
      const stats = partitionStats(parts, labels, 10);
      const what = `${clients} clients × ${classesPerClient}`;
      expectExactCover(parts, labels.length, what);
      for (const c of stats.clients) expect(c.classes, `${what}: client ${c.client}`).toBeLessThanOrEqual(classesPerClient);
    }
    // McMahan's setting: 100 clients × 2 shards of 6000 samples, 30 per shard.
    const balanced = Int32Array.from({ length: 6000 }, (_, i) => i % 10);
    const stats = partitionStats(partition(balanced, 10, 100, { kind: 'shards', classesPerClient: 2 }, 1), balanced, 10);
    expect([stats.minCount, stats.maxCount]).toEqual([60, 60]);
  });

  it('shards: refuses a setting that cannot keep classes apart, saying what to change', () => {
    expect(() => partition(labels, 10, 3, { kind: 'shards', classesPerClient: 3 }, 1)).toThrow(BadInputError);
    expect(() => partition(labels, 10, 3, { kind: 'shards', classesPerClient: 3 }, 1)).toThrow(/9 shard\(s\) cannot hold the 10 classes.*raise classesPerClient/);
    expect(() => partition(makeLabels(10, 2), 2, 4, { kind: 'shards', classesPerClient: 3 }, 1)).toThrow(/10 sample\(s\) cannot fill 12 shards/);
  });

  it('quantity: a small alpha spreads client sizes far more than a large one, and labels stay IID', () => {
    const spread = (alpha: number): { cv: number; skew: number } => {
      const stats = partitionStats(partition(labels, 10, 40, { kind: 'quantity', alpha }, 2), labels, 10);
      const sd = Math.sqrt(stats.clients.reduce((a, c) => a + (c.count - stats.meanCount) ** 2, 0) / stats.clients.length);
      return { cv: sd / stats.meanCount, skew: stats.labelSkew };
    };
    const small = spread(0.1);
    const large = spread(1000);
    expect(small.cv, `cv ${small.cv} vs ${large.cv}`).toBeGreaterThan(1);
    expect(large.cv).toBeLessThan(0.15);
    expect(large.skew).toBeLessThan(0.2);
  });

  it('rejects impossible requests with a BadInputError that says what to do', () => {
    const cases: [string, () => unknown, RegExp][] = [
      ['zero clients', () => partition(labels, 10, 0, { kind: 'iid' }, 1), /positive integer, got 0/],
      ['fractional clients', () => partition(labels, 10, 2.5, { kind: 'iid' }, 1), /positive integer, got 2.5/],
      ['more clients than samples', () => partition(labels.subarray(0, 5), 10, 6, { kind: 'iid' }, 1), /5 sample\(s\) cannot give each of 6 clients.*use fewer clients/],
      ['label out of range', () => partition(Int32Array.of(0, 1, 10), 10, 1, { kind: 'iid' }, 1), /label 10 of sample 2 is outside 0..9/],
    ];
    for (const [what, run, message] of cases) {
      expect(run, what).toThrow(BadInputError);
      expect(run, what).toThrow(message);
    }
  });
});

describe('partition properties', () => {
  const arbSpec: fc.Arbitrary<PartitionSpec> = fc.oneof(
    fc.constant({ kind: 'iid' as const }),
    fc.double({ min: 0.001, max: 100, noNaN: true }).map((alpha) => ({ kind: 'dirichlet' as const, alpha })),
    fc.integer({ min: 1, max: 4 }).map((classesPerClient) => ({ kind: 'shards' as const, classesPerClient })),
    fc.double({ min: 0.001, max: 100, noNaN: true }).map((alpha) => ({ kind: 'quantity' as const, alpha })),
  );
  const arbCase = fc
    .record({
      numClasses: fc.integer({ min: 1, max: 12 }),
      clients: fc.integer({ min: 1, max: 60 }),
      extra: fc.integer({ min: 0, max: 400 }),
      spec: arbSpec,
      seed: fc.integer(),
    })
    .chain((c) => {
      // Shards need clients × classesPerClient samples and at least as many shards as classes
      // present, so labels are drawn from that many classes at most (by construction, not by a
      // filter, which would reject almost every draw).
      const shards = c.spec.kind === 'shards' ? c.clients * c.spec.classesPerClient : Infinity;
      const n = Math.max(c.clients, Number.isFinite(shards) ? shards : 0) + c.extra;
      const maxLabel = Math.min(c.numClasses, shards) - 1;
      return fc
        .array(fc.integer({ min: 0, max: maxLabel }), { minLength: n, maxLength: n })
        .map((ls) => ({ ...c, labels: Int32Array.from(ls) }));
    });

  it('every index is used exactly once, no client is empty, and the seed fixes the result', () => {
    fc.assert(
      fc.property(arbCase, ({ labels: ls, numClasses, clients, spec, seed }) => {
        const parts = partition(ls, numClasses, clients, spec, seed);
        expect(parts.length).toBe(clients);
        expectExactCover(parts, ls.length, name(spec));
        expect(partition(ls, numClasses, clients, spec, seed)).toEqual(parts);
        if (spec.kind === 'shards') {
          for (const c of partitionStats(parts, ls, numClasses).clients) expect(c.classes).toBeLessThanOrEqual(spec.classesPerClient);
        }
      }),
      { seed: 20_260_522, numRuns: 300 },
    );
  });
});
