import { readFile } from 'node:fs/promises';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { accumulateReference, axpyReference, divideReference } from './arithmetic.js';
import { kernelsWasmBase64 } from './kernelsWasm.js';
import { JsVectorBackend } from './vectorBackend.js';
import { WasmVectorBackend, wasmBackendAvailable } from './wasmBackend.js';
// @ts-expect-error: a plain .mjs build script without type declarations
import { assembleKernels, kernelsModuleSource } from './buildKernels.mjs';

const f32 = fc.float({ noNaN: true, noDefaultInfinity: true });
const bitsOf = (v: Float32Array): number[] => Array.from(new Uint32Array(v.slice().buffer));
// The bits with every NaN as one canonical NaN: wasm leaves a NaN's sign and payload to the
// engine. That costs nothing in consensus, since a sweep with a NaN is never kept.
const bitsOrNaN = (v: Float32Array): (number | 'NaN')[] => bitsOf(v).map((b, i) => (Number.isNaN(v[i]) ? 'NaN' : b));

describe('kernels.wat', () => {
  it('kernelsWasm.ts holds exactly the assembled kernels.wat (run buildKernels.mjs after editing)', async () => {
    const wat = await readFile(new URL('./kernels.wat', import.meta.url), 'utf8');
    const bytes = (await assembleKernels(wat)) as Uint8Array;
    expect(Buffer.from(kernelsWasmBase64, 'base64').equals(Buffer.from(bytes))).toBe(true);
    const committed = await readFile(new URL('./kernelsWasm.ts', import.meta.url), 'utf8');
    expect(committed).toBe(kernelsModuleSource(bytes));
  });

  it('is usable in this Node', () => {
    expect(wasmBackendAvailable()).toBe(true);
  });
});

describe('wasm kernels match the reference arithmetic bit for bit', () => {
  // lengths around the 16-float SIMD block so both the block loop and the tail run
  const vectorPair = fc.integer({ min: 1, max: 70 }).chain((n) =>
    fc.tuple(fc.float32Array({ minLength: n, maxLength: n, noNaN: true, noDefaultInfinity: true }), fc.float32Array({ minLength: n, maxLength: n, noNaN: true, noDefaultInfinity: true })),
  );

  it('one input (axpy), out of place and in place, including overflow flags', () => {
    fc.assert(
      fc.property(vectorPair, f32, ([src, x], w) => {
        const n = src.length;
        const wasm = new WasmVectorBackend(n);
        const [s, xh, d] = [wasm.alloc(), wasm.alloc(), wasm.alloc()];
        wasm.view(s).set(src);
        wasm.view(xh).set(x);
        const ref = new Float32Array(n);
        const okRef = axpyReference(ref, src, x, w);
        expect(wasm.accumulate(d, s, [xh], [w])).toBe(okRef);
        expect(bitsOf(wasm.view(d))).toEqual(bitsOf(ref));
        // in place
        expect(wasm.accumulate(s, s, [xh], [w])).toBe(okRef);
        expect(bitsOf(wasm.view(s))).toEqual(bitsOf(ref));
      }),
      { seed: 20240601, numRuns: 400 },
    );
  });

  // Values mostly ordinary, sometimes at float32's limit (so sums overflow) or not finite.
  const value = fc.oneof(
    { weight: 20, arbitrary: fc.float({ min: -4, max: 4, noNaN: true }) },
    { weight: 2, arbitrary: fc.constantFrom(3e38, -3e38, 2 ** -149, -0) },
    { weight: 1, arbitrary: fc.constantFrom(NaN, Infinity, -Infinity) },
  );
  // k up to 31 covers sweeps of 16, 8 and 4 inputs and single ones, and their combinations
  const batch = fc.record({ n: fc.integer({ min: 1, max: 70 }), k: fc.integer({ min: 0, max: 31 }) }).chain(({ n, k }) =>
    fc.record({
      src: fc.array(fc.float({ min: -8, max: 8, noNaN: true }), { minLength: n, maxLength: n }),
      xs: fc.array(fc.array(value, { minLength: n, maxLength: n }), { minLength: k, maxLength: k }),
      ws: fc.array(fc.oneof(fc.integer({ min: 1, max: 1000 }), fc.float({ min: Math.fround(1e-3), max: 1e6, noNaN: true })), { minLength: k, maxLength: k }),
    }),
  );

  it('a batch of k inputs in one sweep equals the reference and k single sweeps, bits and flag', () => {
    fc.assert(
      fc.property(batch, fc.boolean(), ({ src, xs, ws }, inPlace) => {
        const n = src.length;
        const srcF = Float32Array.from(src);
        const xsF = xs.map((x) => Float32Array.from(x));
        // the reference, and the definition it stands for: one axpy per input, in order
        const ref = new Float32Array(n);
        const okRef = accumulateReference(ref, srcF, xsF, ws);
        const seq = srcF.slice();
        let okSeq = true;
        for (const [j, x] of xsF.entries()) okSeq = axpyReference(seq, seq, x, ws[j]!) && okSeq;
        expect(bitsOrNaN(ref)).toEqual(bitsOrNaN(seq));
        expect(okRef).toBe(okSeq && ref.every(Number.isFinite));
        for (const backend of [new WasmVectorBackend(n), new JsVectorBackend(n)]) {
          const s = backend.alloc();
          backend.view(s).set(srcF);
          const d = inPlace ? s : backend.alloc();
          const handles = xsF.map((x) => {
            const h = backend.alloc();
            backend.view(h).set(x);
            return h;
          });
          expect(backend.accumulate(d, s, handles, ws), backend.name).toBe(okRef);
          expect(bitsOrNaN(backend.view(d)), backend.name).toEqual(bitsOrNaN(ref));
        }
      }),
      { seed: 8675309, numRuns: 500 },
    );
  });

  it('divide', () => {
    fc.assert(
      fc.property(vectorPair, fc.float({ min: Math.fround(1e-3), max: Math.fround(1e9), noNaN: true }), ([src], d) => {
        const wasm = new WasmVectorBackend(src.length);
        const [s, o] = [wasm.alloc(), wasm.alloc()];
        wasm.view(s).set(src);
        wasm.divide(o, s, d);
        const ref = new Float32Array(src.length);
        divideReference(ref, src, d);
        expect(bitsOf(wasm.view(o))).toEqual(bitsOf(ref));
      }),
      { seed: 7, numRuns: 300 },
    );
  });

  const edgeCases: [string, number, number, number][] = [
    ['a product that must round before the sum (an FMA would differ)', 1 + 2 ** -23, 1 + 2 ** -23, -1],
    ['subnormal operands', 2 ** -140, 3, 2 ** -149],
    ['−0 plus −0 stays −0', -0, 1, -0],
    ['overflow to Infinity is flagged', 3e38, 2, 3e38],
  ];
  // Each case runs through the 1-, 4-, 8- and 16-input kernels: the edge value is the
  // first input, and the rest add −0 (which changes no value, −0 included).
  it.each(edgeCases.flatMap(([name, x, w, acc]) => [1, 4, 8, 16].map((k) => [name, k, x, w, acc] as const)))('edge case: %s (k=%i)', (_name, k, x, w, acc) => {
    const n = 19; // one SIMD block plus a tail, so both code paths see the value
    const results = [new WasmVectorBackend(n), new JsVectorBackend(n)].map((b) => {
      const a = b.alloc();
      b.view(a).fill(acc);
      const xs = Array.from({ length: k }, (_, j) => {
        const h = b.alloc();
        b.view(h).fill(j === 0 ? x : -0);
        return h;
      });
      const ok = b.accumulate(a, a, xs, [w, ...new Array<number>(k - 1).fill(1)]);
      return { ok, bits: bitsOf(b.view(a)) };
    });
    expect(results[0]).toEqual(results[1]);
    const expected = Math.fround(Math.fround(acc) + Math.fround(Math.fround(w) * Math.fround(x)));
    expect(new Float32Array(new Uint32Array([results[0]!.bits[0]!]).buffer)[0]).toBe(expected);
    expect(results[0]!.ok).toBe(Number.isFinite(expected));
  });

  it('flags NaN and Infinity in any input of a batch wherever they sit', () => {
    for (const k of [1, 4, 8, 16, 29]) {
      for (const n of [1, 15, 16, 17, 64, 65]) {
        for (const bad of [NaN, Infinity, -Infinity]) {
          for (const at of [0, n - 1, n >> 1]) {
            for (const which of new Set([0, k >> 1, k - 1])) {
              const wasm = new WasmVectorBackend(n);
              const a = wasm.alloc();
              const xs = Array.from({ length: k }, () => wasm.alloc());
              for (const h of xs) wasm.view(h).fill(1);
              wasm.view(xs[which]!)[at] = bad;
              expect(wasm.accumulate(a, a, xs, new Array<number>(k).fill(1)), `k=${k} n=${n} value=${bad} at=${at} in input ${which}`).toBe(false);
            }
          }
        }
      }
    }
  });
});
