import { describe, expect, it } from 'vitest';
import { Rng } from '../../util/rng.js';
import { aggregate } from './createAggregator.js';
import { gaussianStream } from './dpAggregator.js';

// Client-level DP-FedAvg as workers run it: clipped updates, plain average, seeded noise.

const SEED = '11'.repeat(32);
const spec = (noiseMultiplier: number, noiseSeed = SEED) => ({ kind: 'dp-fedavg' as const, clip: 1, noiseMultiplier, noiseSeed });

function inputs(n: number, length: number, seed: number, scale = 0.1) {
  const rng = Rng.fromSeed(seed);
  return Array.from({ length: n }, (_, i) => ({ memberId: `c${i}`, weight: 10 + i, params: Float32Array.from({ length }, () => (rng.float() - 0.5) * scale) }));
}

describe('DP-FedAvg aggregation', () => {
  it('without noise and within the clip, it is the unweighted average', () => {
    const global = new Float32Array(8);
    const xs = inputs(4, 8, 1);
    const r = aggregate(spec(0), xs, { global });
    for (let i = 0; i < 8; i++) expect(r.params[i], `coordinate ${i}`).toBeCloseTo(xs.reduce((a, x) => a + x.params[i]!, 0) / 4, 6);
    expect(r.inputs).toBe(4);
  });

  it('one client moves the average by at most clip / n, however large its update', () => {
    const global = new Float32Array(16);
    const honest = inputs(4, 16, 2, 0);
    const huge = { memberId: 'c9', weight: 1, params: new Float32Array(16).fill(1000) };
    const r = aggregate(spec(0), [...honest, huge], { global });
    let sq = 0;
    for (const v of r.params) sq += v * v;
    expect(Math.sqrt(sq)).toBeCloseTo(1 / 5, 6);
  });

  it('the same inputs and seed give the same bytes in any input order; another seed does not', () => {
    const global = Float32Array.from({ length: 64 }, (_, i) => i / 64);
    const xs = inputs(5, 64, 3);
    const a = aggregate(spec(1.1), xs, { global }).params;
    const b = aggregate(spec(1.1), [...xs].reverse(), { global }).params;
    const c = aggregate(spec(1.1, '22'.repeat(32)), xs, { global }).params;
    expect(Buffer.from(b.buffer)).toEqual(Buffer.from(a.buffer));
    expect(Buffer.from(c.buffer)).not.toEqual(Buffer.from(a.buffer));
  });

  it('adds noise of standard deviation σ·clip / n per coordinate', () => {
    const length = 20_000;
    const global = new Float32Array(length);
    const xs = Array.from({ length: 4 }, (_, i) => ({ memberId: `c${i}`, weight: 1, params: new Float32Array(length) }));
    const r = aggregate(spec(2), xs, { global });
    let sum = 0;
    let sq = 0;
    for (const v of r.params) {
      sum += v;
      sq += v * v;
    }
    const mean = sum / length;
    const std = Math.sqrt(sq / length - mean * mean);
    expect(Math.abs(mean)).toBeLessThan(0.02);
    expect(std).toBeGreaterThan(0.5 * 0.97);
    expect(std).toBeLessThan(0.5 * 1.03);
  });

  it('the noise stream is standard normal (moments of 100,000 draws)', () => {
    const z = gaussianStream(new Uint8Array(32).fill(3), 100_000);
    let m1 = 0;
    let m2 = 0;
    let m4 = 0;
    for (const v of z) {
      m1 += v;
      m2 += v * v;
      m4 += v ** 4;
    }
    expect(Math.abs(m1 / z.length)).toBeLessThan(0.015);
    expect(m2 / z.length).toBeGreaterThan(0.98);
    expect(m2 / z.length).toBeLessThan(1.02);
    expect(m4 / z.length).toBeGreaterThan(2.9);
    expect(m4 / z.length).toBeLessThan(3.1);
  });

  it('a non-finite update is left out and named', () => {
    const global = new Float32Array(4);
    const xs = [...inputs(2, 4, 4), { memberId: 'c5', weight: 1, params: Float32Array.of(NaN, 0, 0, 0) }];
    const r = aggregate(spec(0), xs, { global });
    expect(r.inputs).toBe(2);
    expect(r.rejected).toEqual([{ memberId: 'c5', reason: 'non-finite' }]);
  });
});
