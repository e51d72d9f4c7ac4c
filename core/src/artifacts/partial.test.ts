import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { binIndex, emptyPartial, mergePartials, partialOf, refusalPartial, sampleVariance, type QueryPartial } from './partial.js';

// The partial-answer monoid: merging is associative and commutative (exactly for counts,
// bins, min and max; to rounding for sums, means and M2), emptyPartial is its identity, and
// merging per-node partials gives the centralised answer.

const bins = { min: 0, max: 100, count: 10 };
const values = fc.array(fc.double({ min: -1e3, max: 1e3, noNaN: true }), { maxLength: 40 });
const node = (i: number) => values.map((v) => partialOf(`n${i}`, v, bins));

function close(a: number, b: number, rel = 1e-9): boolean {
  return Math.abs(a - b) <= rel * Math.max(1, Math.abs(a), Math.abs(b));
}

function expectSame(a: QueryPartial, b: QueryPartial, what: string): void {
  expect(a.n, `${what}: n`).toBe(b.n);
  expect(a.bins, `${what}: bins`).toEqual(b.bins);
  expect([a.below, a.above], `${what}: below/above`).toEqual([b.below, b.above]);
  expect([a.min, a.max], `${what}: min/max`).toEqual([b.min, b.max]);
  expect(a.members, `${what}: members`).toEqual(b.members);
  expect(close(a.sum, b.sum) && close(a.mean, b.mean) && close(a.m2, b.m2), `${what}: sum/mean/m2 ${[a.sum, a.mean, a.m2]} vs ${[b.sum, b.mean, b.m2]}`).toBe(true);
}

describe('the partial-answer monoid', () => {
  it('is associative', () => {
    fc.assert(fc.property(node(1), node(2), node(3), (a, b, c) => expectSame(mergePartials(mergePartials(a, b), c), mergePartials(a, mergePartials(b, c)), 'associativity')));
  });

  it('is commutative', () => {
    fc.assert(fc.property(node(1), node(2), (a, b) => expectSame(mergePartials(a, b), mergePartials(b, a), 'commutativity')));
  });

  it('has the empty partial as identity, bit for bit', () => {
    fc.assert(
      fc.property(node(1), (a) => {
        expect(mergePartials(emptyPartial(10), a)).toEqual(a);
        expect(mergePartials(a, emptyPartial(10))).toEqual(a);
      }),
    );
  });

  it('merged over any split equals the centralised answer', () => {
    fc.assert(
      fc.property(fc.array(values, { minLength: 1, maxLength: 6 }), (parts) => {
        const all = parts.flat();
        const merged = parts.map((p, i) => partialOf(`n${i}`, p, bins)).reduce(mergePartials, emptyPartial(10));
        const central = partialOf('x', all, bins);
        expect(merged.n).toBe(all.length);
        expect(merged.bins).toEqual(central.bins);
        expect([merged.min, merged.max]).toEqual([central.min, central.max]);
        expect(close(merged.sum, central.sum, 1e-9)).toBe(true);
        if (all.length > 0) expect(close(merged.mean, central.mean, 1e-9)).toBe(true);
        const v = sampleVariance(merged);
        const cv = sampleVariance(central);
        if (cv !== null) expect(close(v!, cv, 1e-8), `variance ${v} vs ${cv}`).toBe(true);
      }),
    );
  });

  it('keeps refusals, sorted by member, and counts nothing for them', () => {
    const m = [refusalPartial('b', 'too few'), partialOf('c', [1, 2], null), refusalPartial('a', 'no data')].reduce(mergePartials, emptyPartial());
    expect(m.refusals.map((r) => r.member)).toEqual(['a', 'b']);
    expect(m.members).toEqual(['c']);
    expect(m.n).toBe(2);
  });

  it('refuses to merge partials of different histograms', () => {
    expect(() => mergePartials(emptyPartial(3), emptyPartial(4))).toThrow(/bins differ/);
  });
});

describe('binIndex', () => {
  const cases: [number, number][] = [
    [-0.1, -1],
    [0, 0],
    [9.999, 0],
    [10, 1],
    [99.99, 9],
    [100, 9],
    [100.1, 10],
  ];
  for (const [v, i] of cases) it(`puts ${v} in bin ${i}`, () => expect(binIndex(v, bins)).toBe(i));
});
