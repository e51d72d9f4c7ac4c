import { describe, expect, it } from 'vitest';
import { applyLie, decodeSyntheticParams, encodeSyntheticParams, syntheticEvaluate, syntheticInit, syntheticTrain, type SyntheticLie, type SyntheticSpec } from './synthetic.js';
import { sha256Hex } from '../util/hash.js';

const spec: SyntheticSpec = { params: 1000, learnRate: 0.3, epochs: 2, heterogeneity: 0.5, seed: 9 };

describe('synthetic training', () => {
  it('encodes and decodes a vector bit for bit, and refuses other bytes', () => {
    const v = syntheticInit(spec.params, 3);
    const bytes = encodeSyntheticParams(v);
    expect(decodeSyntheticParams(bytes)).toEqual(v);
    expect(() => decodeSyntheticParams(bytes.subarray(0, bytes.length - 4))).toThrow(/must be/);
    expect(() => decodeSyntheticParams(new Uint8Array(32))).toThrow(/bad magic/);
  });

  it('is a pure function: same inputs, same bytes; another client or global, other bytes', () => {
    const g = syntheticInit(spec.params, 1);
    const h = (x: Float32Array) => sha256Hex(encodeSyntheticParams(x));
    expect(h(syntheticTrain(g, 'c-1', spec))).toBe(h(syntheticTrain(g, 'c-1', spec)));
    expect(h(syntheticTrain(g, 'c-2', spec))).not.toBe(h(syntheticTrain(g, 'c-1', spec)));
    expect(h(syntheticTrain(syntheticInit(spec.params, 2), 'c-1', spec))).not.toBe(h(syntheticTrain(g, 'c-1', spec)));
  });

  it('learns: averaging trained clients lowers the loss toward the floor their scatter leaves', () => {
    let g = syntheticInit(spec.params, 1);
    let loss = syntheticEvaluate(g, spec).loss;
    for (let round = 1; round <= 3; round++) {
      const updates = ['a', 'b', 'c', 'd'].map((c) => syntheticTrain(g, c, spec));
      g = g.map((_, i) => updates.reduce((s, u) => s + u[i]!, 0) / updates.length);
      const next = syntheticEvaluate(g, spec);
      expect(next.loss, `round ${round}`).toBeLessThan(loss);
      expect(next.accuracy).toBeGreaterThan(0);
      expect(next.accuracy).toBeLessThanOrEqual(1);
      loss = next.loss;
    }
  });

  it.each<[SyntheticLie, (honest: number, lied: number) => boolean]>([
    ['zeros', (_h, l) => l === 0],
    ['sign-flip', (h, l) => l === -h],
    ['noise', (h, l) => l !== h],
  ])('a %s lie changes the aggregate as described', (kind, check) => {
    const honest = syntheticInit(spec.params, 4);
    const lied = Float32Array.from(honest);
    applyLie(lied, kind, 'w-0', 3);
    for (let i = 0; i < 10; i++) expect(check(honest[i]!, lied[i]!), `coordinate ${i}`).toBe(true);
  });
});
