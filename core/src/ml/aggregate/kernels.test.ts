import { readFile } from 'node:fs/promises';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { axpyReference, divideReference } from './arithmetic.js';
import { kernelsWasmBase64 } from './kernelsWasm.js';
import { JsVectorBackend } from './vectorBackend.js';
import { WasmVectorBackend, wasmBackendAvailable } from './wasmBackend.js';
// @ts-expect-error: a plain .mjs build script without type declarations
import { assembleKernels, kernelsModuleSource } from './buildKernels.mjs';

const f32 = fc.float({ noNaN: true, noDefaultInfinity: true });
const bitsOf = (v: Float32Array): number[] => Array.from(new Uint32Array(v.slice().buffer));

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

  it('axpy, out of place and in place, including overflow flags', () => {
    fc.assert(
      fc.property(vectorPair, f32, ([src, x], w) => {
        const n = src.length;
        const wasm = new WasmVectorBackend(n);
        const [s, xh, d] = [wasm.alloc(), wasm.alloc(), wasm.alloc()];
        wasm.view(s).set(src);
        wasm.view(xh).set(x);
        const ref = new Float32Array(n);
        const okRef = axpyReference(ref, src, x, w);
        expect(wasm.axpy(d, s, xh, w)).toBe(okRef);
        expect(bitsOf(wasm.view(d))).toEqual(bitsOf(ref));
        // in place
        expect(wasm.axpy(s, s, xh, w)).toBe(okRef);
        expect(bitsOf(wasm.view(s))).toEqual(bitsOf(ref));
      }),
      { seed: 20240601, numRuns: 400 },
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

  it.each([
    ['a product that must round before the sum (an FMA would differ)', 1 + 2 ** -23, 1 + 2 ** -23, -1],
    ['subnormal operands', 2 ** -140, 3, 2 ** -149],
    ['−0 plus −0 stays −0', -0, 1, -0],
    ['overflow to Infinity is flagged', 3e38, 2, 3e38],
  ])('edge case: %s', (_name, x, w, acc) => {
    const n = 19; // one SIMD block plus a tail, so both code paths see the value
    const wasm = new WasmVectorBackend(n);
    const js = new JsVectorBackend(n);
    const results = [wasm, js].map((b) => {
      const [a, xh] = [b.alloc(), b.alloc()];
      b.view(a).fill(acc);
      b.view(xh).fill(x);
      const ok = b.axpy(a, a, xh, w);
      return { ok, bits: bitsOf(b.view(a)) };
    });
    expect(results[0]).toEqual(results[1]);
    const expected = Math.fround(Math.fround(acc) + Math.fround(Math.fround(w) * Math.fround(x)));
    expect(new Float32Array(new Uint32Array([results[0]!.bits[0]!]).buffer)[0]).toBe(expected);
    expect(results[0]!.ok).toBe(Number.isFinite(expected));
  });

  it('flags NaN and Infinity in the input wherever they sit', () => {
    for (const n of [1, 15, 16, 17, 64, 65]) {
      for (const bad of [NaN, Infinity, -Infinity]) {
        for (const at of [0, n - 1, n >> 1]) {
          const wasm = new WasmVectorBackend(n);
          const [a, xh] = [wasm.alloc(), wasm.alloc()];
          wasm.view(xh).fill(1);
          wasm.view(xh)[at] = bad;
          expect(wasm.axpy(a, a, xh, 1), `n=${n} value=${bad} at=${at}`).toBe(false);
        }
      }
    }
  });
});
