import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BadInputError } from '../../util/errors.js';
import { Rng } from '../../util/rng.js';
import { sha256Hex } from '../../util/hash.js';
import { AggregatorSpec } from '../../spec/ml.js';
import type { AggregationInput } from '../types.js';
import { aggregate, createAggregator } from './createAggregator.js';
import { bits, randomInputs } from './testing.js';

const allSpecs = [
  { kind: 'fedavg' },
  { kind: 'fedavgm' },
  { kind: 'fedadam' },
  { kind: 'fedyogi' },
  { kind: 'fedadagrad' },
  { kind: 'median' },
  { kind: 'trimmed-mean', beta: 0.2 },
  { kind: 'krum', f: 1, m: 2 },
].map((s) => AggregatorSpec.parse(s));
const streaming = allSpecs.filter((s) => ['fedavg', 'fedavgm', 'fedadam', 'fedyogi', 'fedadagrad'].includes(s.kind));

describe.each(allSpecs)('input checks of $kind', (spec) => {
  const P = 5;
  const good = (id: string, fill = 1): AggregationInput => ({ memberId: id, params: new Float32Array(P).fill(fill), weight: 3 });
  const rejects: [string, AggregationInput, RegExp][] = [
    ['out of order', good('a'), /ascending memberId order/],
    ['duplicate', good('b'), /twice/],
    ['wrong length', { memberId: 'c', params: new Float32Array(P + 1), weight: 1 }, /6 values but the global model has 5/],
    ['not a Float32Array', { memberId: 'c', params: new Float64Array(P) as unknown as Float32Array, weight: 1 }, /Float32Array/],
    ['NaN weight', { ...good('c'), weight: NaN }, /weight/],
    ['zero weight', { ...good('c'), weight: 0 }, /weight/],
    ['negative weight', { ...good('c'), weight: -1 }, /weight/],
    ['infinite weight', { ...good('c'), weight: Infinity }, /weight/],
    ['empty memberId', good(''), /memberId/],
  ];
  it.each(rejects)('rejects %s with BadInputError and stays usable', (_name, bad, message) => {
    const agg = createAggregator(spec, { global: new Float32Array(P) });
    agg.add(good('b', 2));
    let err: unknown;
    try {
      agg.add(bad);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BadInputError);
    expect((err as Error).message).toMatch(message);
    for (const id of ['d', 'e', 'f', 'g']) agg.add(good(id, 2));
    expect(Array.from(agg.finish().params)).toEqual(Array.from(aggregate(spec, ['b', 'd', 'e', 'f', 'g'].map((id) => good(id, 2)), { global: new Float32Array(P) }).params));
  });

  it.each([
    ['NaN', NaN],
    ['Infinity', Infinity],
    ['−Infinity', -Infinity],
  ])('leaves out params holding %s, reports them in rejected, and gives the aggregate of the others', (_name, bad) => {
    for (let at = 0; at < 6; at++) {
      const ids = ['a', 'b', 'c', 'd', 'e', 'f'];
      const inputs = randomInputs(17, ids.length, P).map((input, k) => ({ ...input, memberId: ids[k]! }));
      inputs[at]!.params[at % P] = bad;
      const agg = createAggregator(spec, { global: new Float32Array(P) });
      for (const input of inputs) agg.add(input); // does not throw: values are checked when read
      const out = agg.finish();
      const others = inputs.filter((_, k) => k !== at);
      const expected = aggregate(spec, others, { global: new Float32Array(P) });
      expect(out.rejected, `bad input at ${at}`).toEqual([{ memberId: ids[at], reason: 'non-finite' }]);
      expect(out.inputs).toBe(others.length);
      expect(out.totalWeight).toBe(expected.totalWeight);
      expect(bits(out.params), `bad input at ${at}`).toEqual(bits(expected.params));
      expect(expected.rejected).toEqual([]);
    }
  });

  it('counts a rejected input as added: the same member again is a duplicate', () => {
    const agg = createAggregator(spec, { global: new Float32Array(P) });
    agg.add(good('a', NaN));
    expect(() => agg.add(good('a'))).toThrow(/twice/);
  });

  it('refuses to finish when every input was rejected, naming them, and stays open', () => {
    const agg = createAggregator(spec, { global: new Float32Array(P) });
    agg.add(good('a', NaN));
    agg.add(good('b', Infinity));
    expect(() => agg.finish()).toThrow(/all 2 were rejected.*'a' \(non-finite\), 'b' \(non-finite\)/);
    for (const id of ['c', 'd', 'e', 'f', 'g']) agg.add(good(id, 2));
    const out = agg.finish();
    expect(out.rejected.map((r) => r.memberId)).toEqual(['a', 'b']);
    expect(out.inputs).toBe(5);
  });

  it('refuses to finish without inputs, and to be used after finishing', () => {
    const agg = createAggregator(spec, { global: new Float32Array(P) });
    expect(() => agg.finish()).toThrow(/no inputs/);
    for (const id of ['a', 'b', 'c', 'd', 'e']) agg.add(good(id));
    agg.finish();
    expect(() => agg.add(good('z'))).toThrow(/finished/);
    expect(() => agg.finish()).toThrow(/finished/);
  });

  it('takes allocate()d vectors and copies foreign ones, so later writes by the caller change nothing', () => {
    const inputs = randomInputs(3, 6, P);
    const expected = aggregate(spec, inputs, { global: new Float32Array(P) }).params;
    const agg = createAggregator(spec, { global: new Float32Array(P) });
    inputs.forEach((input, k) => {
      if (k % 2 === 0) {
        const v = agg.allocate();
        expect(Array.from(v)).toEqual(new Array(P).fill(0));
        v.set(input.params);
        agg.add({ ...input, params: v });
      } else {
        const copy = input.params.slice();
        agg.add({ ...input, params: copy });
        copy.fill(1e9);
      }
    });
    expect(bits(agg.finish().params)).toEqual(bits(expected));
  });
});

describe('determinism', () => {
  it('aggregate() gives identical bits whatever order the inputs come in', () => {
    fc.assert(
      fc.property(fc.constantFrom(...allSpecs), fc.integer({ min: 5, max: 12 }), fc.integer(), (spec, n, seed) => {
        const inputs = randomInputs(seed, n, 33);
        const global = randomInputs(seed + 1, 1, 33)[0]!.params;
        const expected = bits(aggregate(spec, inputs, { global }).params);
        const shuffled = Rng.fromSeed(seed).shuffle([...inputs]);
        expect(bits(aggregate(spec, shuffled, { global }).params)).toEqual(expected);
      }),
      { seed: 4242, numRuns: 60 },
    );
  });

  it('the wasm and js backends agree bit for bit on every streaming kind, over rounds of server state', () => {
    fc.assert(
      fc.property(fc.constantFrom(...streaming), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 100 }), fc.integer(), (spec, n, length, seed) => {
        let wasmGlobal = randomInputs(seed, 1, length)[0]!.params;
        let jsGlobal = wasmGlobal;
        let wasmState, jsState;
        for (let round = 0; round < 3; round++) {
          const inputs = randomInputs(seed + round, n, length, 0, 10 ** (round - 1));
          const w = aggregate(spec, inputs, { global: wasmGlobal, serverState: wasmState, backend: 'wasm' });
          const j = aggregate(spec, inputs, { global: jsGlobal, serverState: jsState, backend: 'js' });
          expect(bits(w.params), `round ${round}`).toEqual(bits(j.params));
          expect(w.serverState?.vectors.map(bits)).toEqual(j.serverState?.vectors.map(bits));
          [wasmGlobal, jsGlobal, wasmState, jsState] = [w.params, j.params, w.serverState, j.serverState];
        }
      }),
      { seed: 1234, numRuns: 80 },
    );
  });

  it('pins the bytes of one FedAvg result (any change to the arithmetic shows up here)', () => {
    const inputs = randomInputs(2024, 7, 1000);
    const out = aggregate({ kind: 'fedavg' }, inputs, { global: new Float32Array(1000) });
    expect(sha256(out.params)).toMatchInlineSnapshot(`"1808e5b32acd7340ce0f7bf6c3d4e50cd88c04b76946ccb7269ca772b88ca754"`);
  });
});

describe('streaming memory', () => {
  it('holds no reference to the inputs it was given', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const P = 50_000;
    const agg = createAggregator({ kind: 'fedavg' }, { global: new Float32Array(P) });
    // in a function of its own, so no stack slot of this test keeps an input alive
    const feed = (): WeakRef<Float32Array>[] =>
      Array.from({ length: 40 }, (_, k) => {
        const params = new Float32Array(P).fill(k);
        agg.add({ memberId: `m${String(k).padStart(2, '0')}`, params, weight: 1 });
        return new WeakRef(params);
      });
    const refs = feed();
    // WeakRef targets stay alive until the current job ends
    await new Promise((resolve) => setTimeout(resolve, 0));
    gc();
    expect(refs.filter((r) => r.deref() !== undefined).length).toBe(0);
    expect(agg.finish().params[0]).toBe(19.5);
  });
});

function sha256(v: Float32Array): string {
  return sha256Hex(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
}
