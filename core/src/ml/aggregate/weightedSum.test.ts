import { describe, expect, it } from 'vitest';
import { BadInputError } from '../../util/errors.js';
import { axpyReference, divideReference } from './arithmetic.js';
import { bits, CountingBackend, randomInputs } from './testing.js';
import { JsVectorBackend, type VectorBackend } from './vectorBackend.js';
import { WasmVectorBackend } from './wasmBackend.js';
import { defaultWindow, WeightedSum } from './weightedSum.js';

const backends: [string, (n: number) => VectorBackend][] = [
  ['wasm', (n) => new WasmVectorBackend(n)],
  ['js', (n) => new JsVectorBackend(n)],
];

function referenceMean(vectors: { params: Float32Array; weight: number }[]): Float32Array {
  const acc = new Float32Array(vectors[0]!.params.length);
  let w = 0;
  for (const v of vectors) {
    axpyReference(acc, acc, v.params, v.weight);
    w += Math.fround(v.weight);
  }
  divideReference(acc, acc, w);
  return acc;
}

describe.each(backends)('WeightedSum on %s', (_name, make) => {
  it.each([1, 2, 3, 5])('rejecting input k leaves the exact sum of the others (window %i)', (window) => {
    const inputs = randomInputs(11, 9, 37);
    for (let badAt = 0; badAt < inputs.length; badAt++) {
      const backend = new CountingBackend(make(37));
      const sum = new WeightedSum(backend, window);
      for (let k = 0; k < inputs.length; k++) {
        const h = backend.alloc();
        backend.view(h).set(inputs[k]!.params);
        if (k === badAt) {
          backend.view(h)[k % 37] = k % 2 ? NaN : -Infinity;
          expect(() => sum.add(h, inputs[k]!.weight, inputs[k]!.memberId), `bad input ${k}`).toThrow(BadInputError);
        } else {
          sum.add(h, inputs[k]!.weight, inputs[k]!.memberId);
        }
        expect(backend.live, `after input ${k}`).toBeLessThanOrEqual(2 + window);
      }
      const good = inputs.filter((_, k) => k !== badAt);
      expect(sum.inputs).toBe(good.length);
      expect(bits(sum.mean()), `bad input ${badAt}`).toEqual(bits(referenceMean(good)));
      expect(backend.live).toBe(0);
    }
  });

  it('rejects an input whose weighted values overflow float32, keeping the rest', () => {
    const backend = make(4);
    const sum = new WeightedSum(backend, 4);
    const add = (values: number[], w: number, id: string): void => {
      const h = backend.alloc();
      backend.view(h).set(values);
      sum.add(h, w, id);
    };
    add([3e38, 1, 2, 3], 1, 'a');
    expect(() => add([1e38, 1, 1, 1], 1, 'b')).toThrow(/member 'b'/);
    add([-3e38, 3, 2, 1], 1, 'c');
    expect(Array.from(sum.mean())).toEqual([0, 2, 2, 2]);
  });
});

describe('defaultWindow', () => {
  it.each([
    [10, 32],
    [1_663_370, 32],
    [16_000_000, 4],
    [100_000_000, 1],
  ])('P=%i gives %i', (length, window) => {
    expect(defaultWindow(length)).toBe(window);
  });
});
