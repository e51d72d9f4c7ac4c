import { describe, expect, it } from 'vitest';
import { Rng } from '../../util/rng.js';
import { AggregatorSpec } from '../../spec/ml.js';
import type { AggregationInput } from '../types.js';
import { aggregate } from './createAggregator.js';
import { krumSelect } from './krum.js';
import { randomInputs } from './testing.js';

const fr = Math.fround;
const inputs = (...rows: number[][]): AggregationInput[] =>
  rows.map((r, k) => ({ memberId: `m${k}`, params: new Float32Array(r), weight: 1 + k * 1000 }));
const run = (spec: unknown, rows: AggregationInput[]): number[] =>
  Array.from(aggregate(AggregatorSpec.parse(spec), rows, { global: new Float32Array(rows[0]!.params.length) }).params);

describe('hand-computed robust aggregates (weights 1, 1001, 2001, … are ignored)', () => {
  it.each([
    ['median, odd count', { kind: 'median' }, [[1, -5], [3, 0], [2, 9]], [2, 0]],
    ['median, even count averages the middle two', { kind: 'median' }, [[1, 0], [4, 0.1], [2, 0.2], [100, 0.3]], [3, fr((fr(0.1) + fr(0.2)) / 2)]],
    ['median puts −0 before +0', { kind: 'median' }, [[-0], [0], [0]], [0]],
    ['trimmed mean beta 0.2 of five drops one per side', { kind: 'trimmed-mean', beta: 0.2 }, [[1], [2], [3], [4], [1000]], [3]],
    ['trimmed mean beta 0 is the plain mean', { kind: 'trimmed-mean', beta: 0 }, [[1], [2], [4]], [fr(7 / 3)]],
    ['trimmed mean beta 0.1 of five trims nothing (⌊0.5⌋ = 0)', { kind: 'trimmed-mean', beta: 0.1 }, [[1], [2], [3], [4], [10]], [4]],
    ['krum f=1 picks the most central of five', { kind: 'krum', f: 1, m: 1 }, [[0, 0], [1, 0], [0, 1], [1, 1], [50, 50]], [0, 0]],
    ['multi-krum m=2 averages the two best', { kind: 'krum', f: 1, m: 2 }, [[0, 0], [1, 0], [0, 1], [1, 1], [50, 50]], [0.5, 0]],
  ])('%s', (_name, spec, rows, expected) => {
    expect(run(spec, inputs(...(rows as number[][])))).toEqual((expected as number[]).map(fr));
  });

  it('krum scores are sums of the n − f − 2 smallest squared distances', () => {
    // points on a line: 0, 1, 3, 7, 15 with f = 1 → 2 neighbours each
    const { scores, selected } = krumSelect([0, 1, 3, 7, 15].map((x) => new Float32Array([x])), 1, 1);
    expect(scores).toEqual([1 + 9, 1 + 4, 4 + 9, 16 + 36, 64 + 144]);
    expect(selected).toEqual([1]);
  });

  it('krum ties go to the lower memberId', () => {
    const { selected } = krumSelect([[1], [1], [1], [1], [1]].map((r) => new Float32Array(r)), 1, 2);
    expect(selected).toEqual([0, 1]);
  });

  it.each([
    [{ kind: 'krum', f: 1, m: 1 }, 4, /at least 5 inputs/],
    [{ kind: 'krum', f: 0, m: 3 }, 2, /at least 3 inputs/],
    [{ kind: 'krum', f: 1, m: 5 }, 5, /m=5/],
  ])('krum %o with %i inputs is refused', (spec, n, message) => {
    expect(() => run(spec, randomInputs(1, n, 3))).toThrow(message);
  });
});

describe('a minority of attackers cannot move robust aggregates far', () => {
  const P = 200;
  const honestCenter = 1;
  const honest = (seed: number, n: number): AggregationInput[] => randomInputs(seed, n, P, honestCenter, 0.1);
  const attacks: [string, (rng: Rng, h: AggregationInput[]) => Float32Array][] = [
    ['huge values', (rng) => Float32Array.from({ length: P }, () => (rng.float() < 0.5 ? -3e38 : 3e38))],
    ['sign flipped and scaled', (_rng, h) => h[0]!.params.map((x) => -100 * x)],
    ['colluding duplicates far away', () => new Float32Array(P).fill(-1e6)],
    ['small shift the attackers agree on', () => new Float32Array(P).fill(honestCenter + 5)],
  ];
  const specs: [unknown, number][] = [
    // spec, tolerated distance (max |aggregate − honest centre| over coordinates)
    [{ kind: 'median' }, 0.25],
    [{ kind: 'trimmed-mean', beta: 0.3 }, 0.25],
    [{ kind: 'krum', f: 3, m: 1 }, 0.5],
    [{ kind: 'krum', f: 3, m: 4 }, 0.3],
  ];
  for (const [attackName, attack] of attacks) {
    it.each(specs)(`${attackName} vs %o`, (spec, tolerance) => {
      const rng = Rng.fromSeed(99);
      const good = honest(5, 8);
      // 3 attackers of 11; their ids interleave with honest ones after sorting
      const bad = [0, 1, 2].map((k) => ({ memberId: `m00${k}x`, params: attack(rng, good), weight: 1e9 }));
      const out = aggregate(AggregatorSpec.parse(spec), [...good, ...bad], { global: new Float32Array(P) }).params;
      let worst = 0;
      for (let i = 0; i < P; i++) worst = Math.max(worst, Math.abs(out[i]! - honestCenter));
      expect(worst).toBeLessThan(tolerance);
    });
  }

  it('fedavg, by contrast, is moved by a single attacker (why robust aggregators exist)', () => {
    const good = honest(5, 8);
    const out = aggregate({ kind: 'fedavg' }, [...good, { memberId: 'zz', params: new Float32Array(P).fill(-1e6), weight: 100 }], {
      global: new Float32Array(P),
    }).params;
    expect(Math.abs(out[0]! - honestCenter)).toBeGreaterThan(1000);
  });
});
