import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decideConsensus, votesNeeded } from './consensus.js';
import { drawSample, isSampled, sampleSize } from './sampling.js';

const W = ['a', 'b', 'c'];
const votes = (o: Record<string, string>) => new Map(Object.entries(o));

describe('decideConsensus', () => {
  const rows: [string, Parameters<typeof decideConsensus>, string][] = [
    ['majority: 2 of 3 agree', ['majority_2_3', W, votes({ a: 'x', b: 'x' }), false], 'picked:x'],
    ['majority: 1 of 3 so far', ['majority_2_3', W, votes({ a: 'x' }), false], 'pending'],
    ['majority: 1-1 with one to come', ['majority_2_3', W, votes({ a: 'x', b: 'y' }), false], 'pending'],
    ['majority: 1-1-1', ['majority_2_3', W, votes({ a: 'x', b: 'y', c: 'z' }), false], 'failed'],
    ['majority: 1 of 3 at the deadline', ['majority_2_3', W, votes({ a: 'x' }), true], 'failed'],
    ['majority: 3 of 5 is not 2/3', ['majority_2_3', ['a', 'b', 'c', 'd', 'e'], votes({ a: 'x', b: 'x', c: 'x', d: 'y', e: 'y' }), false], 'failed'],
    ['unanimous: all agree', ['unanimous', W, votes({ a: 'x', b: 'x', c: 'x' }), false], 'picked:x'],
    ['unanimous: one dissents', ['unanimous', W, votes({ a: 'x', b: 'x', c: 'y' }), false], 'failed'],
    ['unanimous: one missing at the deadline', ['unanimous', W, votes({ a: 'x', b: 'x' }), true], 'failed'],
    ['single: the first worker decides', ['single', W, votes({ a: 'x', b: 'y' }), false], 'picked:x'],
    ['single: waits for the first worker', ['single', W, votes({ b: 'y' }), false], 'pending'],
    ['single: at the deadline, the next that answered', ['single', W, votes({ b: 'y' }), true], 'picked:y'],
    ['no workers at all', ['majority_2_3', [], votes({}), false], 'failed'],
  ];
  for (const [name, args, want] of rows) {
    it(name, () => {
      const o = decideConsensus(...args);
      expect(o.kind === 'picked' ? `picked:${o.hash}` : o.kind, name).toBe(want);
    });
  }

  it('majority_2_3 never picks a hash held by fewer than 2/3 of the workers', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('x', 'y', 'z', undefined), { minLength: 1, maxLength: 9 }), fc.boolean(), (vs, closed) => {
        const workers = vs.map((_, i) => `w${i}`);
        const map = new Map(vs.flatMap((v, i) => (v ? [[`w${i}`, v] as [string, string]] : [])));
        const o = decideConsensus('majority_2_3', workers, map, closed);
        if (o.kind === 'picked') expect(vs.filter((v) => v === o.hash).length).toBeGreaterThanOrEqual(votesNeeded('majority_2_3', workers.length));
      }),
      { seed: 3, numRuns: 300 },
    );
  });
});

describe('sampling', () => {
  it('samples exactly k of the eligible, and every client agrees with the host', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200 }), fc.double({ min: 0.01, max: 1, noNaN: true }), fc.integer({ min: 0, max: 0x7fffffff }), (n, fraction, seed) => {
        const eligible = Array.from({ length: n }, (_, i) => `peer-${i}`);
        const k = sampleSize(n, fraction);
        const { rule, sampled } = drawSample(eligible, k, seed);
        expect(sampled.size).toBe(k);
        for (const c of eligible) expect(isSampled(rule, c), c).toBe(sampled.has(c));
      }),
      { seed: 5, numRuns: 200 },
    );
  });

  it('always samples at least one client', () => {
    expect(sampleSize(10, 0.01)).toBe(1);
    expect(sampleSize(0, 0.5)).toBe(0);
    expect(sampleSize(10, 1)).toBe(10);
  });
});
