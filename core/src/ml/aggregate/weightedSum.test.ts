import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AggregationInput } from '../types.js';
import type { RejectedInput } from './aggregator.js';
import { axpyReference, divideReference, firstNonFinite } from './arithmetic.js';
import { bits, CountingBackend, randomInputs } from './testing.js';
import { JsVectorBackend, type VectorBackend } from './vectorBackend.js';
import { WasmVectorBackend } from './wasmBackend.js';
import { defaultBatch, WeightedSum } from './weightedSum.js';

const backends: [string, (n: number) => VectorBackend][] = [
  ['wasm', (n) => new WasmVectorBackend(n)],
  ['js', (n) => new JsVectorBackend(n)],
];

/**
 * The definition, one input at a time (arithmetic.ts): add each input to the sum of those
 * accepted before it; reject it if some coordinate is not finite. The mean of a single
 * accepted input is that input.
 */
function referenceMean(inputs: readonly AggregationInput[]): { mean: Float32Array; rejected: RejectedInput[]; accepted: number } {
  const acc = new Float32Array(inputs[0]!.params.length);
  const rejected: RejectedInput[] = [];
  let w = 0;
  let accepted = 0;
  let only: Float32Array | undefined;
  for (const input of inputs) {
    const next = acc.slice();
    if (axpyReference(next, acc, input.params, input.weight)) {
      acc.set(next);
      w += Math.fround(input.weight);
      accepted++;
      only = input.params;
    } else {
      rejected.push({ memberId: input.memberId, reason: firstNonFinite(input.params) >= 0 ? 'non-finite' : 'overflow' });
    }
  }
  if (accepted === 1) return { mean: Float32Array.from(only!), rejected, accepted };
  divideReference(acc, acc, w);
  return { mean: acc, rejected, accepted };
}

/** Runs `inputs` through a WeightedSum on `backend` and checks its memory bound on the way. */
function sumOf(backend: CountingBackend, batch: number, inputs: readonly AggregationInput[]) {
  const sum = new WeightedSum(backend, batch);
  for (const [k, input] of inputs.entries()) {
    const h = backend.alloc();
    backend.view(h).set(input.params);
    sum.add(h, input.weight, input.memberId);
    // two accumulators and at most a batch of queued vectors, whatever the number of inputs
    expect(backend.peak, `live vectors after input ${k}`).toBeLessThanOrEqual(2 + batch);
  }
  sum.flush();
  const result = { accepted: sum.accepted, rejected: [...sum.rejected], totalWeight: sum.totalWeight, mean: sum.mean().slice() };
  expect(backend.live, 'vectors left after mean()').toBe(0);
  return result;
}

describe.each(backends)('WeightedSum on %s', (_name, make) => {
  it.each([1, 2, 3, 5, 8, 16])('a bad input anywhere is left out exactly, batch %i', (batch) => {
    const inputs = randomInputs(11, 19, 37);
    for (let badAt = 0; badAt < inputs.length; badAt++) {
      const planted = inputs.map((input, k) => {
        if (k !== badAt) return input;
        const params = input.params.slice();
        params[k % 37] = k % 2 ? NaN : -Infinity;
        return { ...input, params };
      });
      const got = sumOf(new CountingBackend(make(37)), batch, planted);
      const good = inputs.filter((_, k) => k !== badAt);
      expect(got.rejected, `bad input ${badAt}`).toEqual([{ memberId: inputs[badAt]!.memberId, reason: 'non-finite' }]);
      expect(got.accepted).toBe(good.length);
      expect(bits(got.mean), `bad input ${badAt}`).toEqual(bits(referenceMean(good).mean));
    }
  });

  it('rejects an input whose weighted values overflow float32 given the inputs before it, keeping the rest', () => {
    const sum = new WeightedSum(make(4), 4);
    const add = (values: number[], w: number, id: string): void => {
      const h = sum.backend.alloc();
      sum.backend.view(h).set(values);
      sum.add(h, w, id);
    };
    add([3e38, 1, 2, 3], 1, 'a');
    add([1e38, 1, 1, 1], 1, 'b'); // 3e38 + 1e38 overflows; alone it would not
    add([-3e38, 3, 2, 1], 1, 'c');
    sum.flush();
    expect(sum.rejected).toEqual([{ memberId: 'b', reason: 'overflow' }]);
    expect(sum.accepted).toBe(2);
    expect(Array.from(sum.mean())).toEqual([0, 2, 2, 2]);
  });

  it('sweeps the accumulator once per batch, not once per input', () => {
    const backend = new CountingBackend(make(40));
    sumOf(backend, 16, randomInputs(5, 100, 40));
    expect(backend.sweeps).toBe(Math.ceil(100 / 16));
  });
});

describe('batched sums match the one-at-a-time definition', () => {
  // N inputs of P values with random weights; some are planted with NaN/±Infinity (or values
  // at float32's limit, which overflow depending on what came before) at random positions.
  const scenario = fc
    .record({
      n: fc.integer({ min: 1, max: 30 }),
      p: fc.integer({ min: 1, max: 70 }),
      batch: fc.integer({ min: 1, max: 20 }),
      seed: fc.integer(),
    })
    .chain((s) =>
      fc.record({
        ...Object.fromEntries(Object.entries(s).map(([k, v]) => [k, fc.constant(v)])),
        weights: fc.array(fc.oneof(fc.integer({ min: 1, max: 60_000 }), fc.double({ min: 1e-3, max: 2 ** 40, noNaN: true })), { minLength: s.n, maxLength: s.n }),
        bad: fc.array(
          fc.record({ at: fc.nat(s.n - 1), lane: fc.nat(s.p - 1), value: fc.constantFrom(NaN, Infinity, -Infinity, 3.4e38, -3.4e38) }),
          { maxLength: Math.min(s.n, 6) },
        ),
      }),
    )
    .map(({ n, p, batch, seed, weights, bad }) => {
      const inputs = randomInputs(seed as number, n as number, p as number).map((input, k) => ({ ...input, weight: weights[k]! }));
      for (const b of bad) inputs[b.at]!.params[b.lane] = b.value;
      return { batch: batch as number, inputs };
    });

  it('returns a lone accepted input bit for bit, also when the others were rejected', () => {
    const x = Float32Array.from({ length: 257 }, (_, i) => Math.sin(i) * 0.37);
    const poisoned = Float32Array.from(x, (v, i) => (i === 5 ? Number.NaN : v));
    for (const [name, make] of backends) {
      for (const batch of [1, 4]) {
        const alone = sumOf(new CountingBackend(make(257)), batch, [{ memberId: 'a', params: x, weight: 1600 }]);
        expect(bits(alone.mean), `${name} batch ${batch}`).toEqual(bits(x));
        const withRejected = sumOf(new CountingBackend(make(257)), batch, [
          { memberId: 'a', params: poisoned, weight: 3 },
          { memberId: 'b', params: x, weight: 1600 },
        ]);
        expect(withRejected.accepted).toBe(1);
        expect(bits(withRejected.mean), `${name} batch ${batch}`).toEqual(bits(x));
      }
    }
  });

  it('wasm and js give the bits and the rejected list of the definition, whatever the batch', () => {
    fc.assert(
      fc.property(scenario, ({ batch, inputs }) => {
        const p = inputs[0]!.params.length;
        const ref = referenceMean(inputs);
        for (const [name, make] of backends) {
          const got = sumOf(new CountingBackend(make(p)), batch, inputs);
          expect(got.rejected, name).toEqual(ref.rejected);
          expect(got.accepted, name).toBe(ref.accepted);
          if (ref.accepted > 0) expect(bits(got.mean), name).toEqual(bits(ref.mean));
        }
      }),
      { seed: 31337, numRuns: 300 },
    );
  });

  it('leaving out a rejected input gives the bits of never having added it', () => {
    fc.assert(
      fc.property(scenario, ({ batch, inputs }) => {
        const p = inputs[0]!.params.length;
        const withBad = sumOf(new CountingBackend(new WasmVectorBackend(p)), batch, inputs);
        const out = new Set(withBad.rejected.map((r) => r.memberId));
        const kept = inputs.filter((i) => !out.has(i.memberId));
        fc.pre(kept.length > 0);
        const without = sumOf(new CountingBackend(new WasmVectorBackend(p)), batch, kept);
        expect(without.rejected).toEqual([]);
        expect(without.totalWeight).toBe(withBad.totalWeight);
        expect(bits(without.mean)).toEqual(bits(withBad.mean));
      }),
      { seed: 2718, numRuns: 300 },
    );
  });
});

describe('defaultBatch', () => {
  it.each([
    [10, 16],
    [1_663_370, 16],
    [16_000_000, 4],
    [100_000_000, 1],
  ])('P=%i gives %i', (length, batch) => {
    expect(defaultBatch(length)).toBe(batch);
  });
});
