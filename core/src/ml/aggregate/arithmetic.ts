/**
 * The arithmetic every Canopy aggregator performs, defined so that any machine produces the
 * same bits (workers reach consensus by comparing sha256 of the aggregate's bytes).
 *
 * Definition. Every operation on parameter values is one IEEE-754 binary32 operation
 * (+, −, ×, ÷, √) with round-to-nearest-even, without fused multiply-add, in the order the
 * code states. In JavaScript such an op is written `fround(a op b)` on float32 operands:
 * computing in binary64 and then rounding once to binary32 gives the correctly rounded
 * binary32 result for these five ops (binary64 has more than 2·24 + 2 significand bits, so
 * the double rounding is innocuous), which is exactly what wasm's f32 and f32x4 ops compute.
 * Note that `acc[i] += w * x[i]` on a Float32Array is *not* this: it rounds the product
 * and sum together once, like an FMA; the product must be rounded on its own.
 *
 * Weighted sums (FedAvg, the FedOpt family and Multi-Krum's mean):
 *   w_k   = fround(weight_k)                         (sample counts are exact below 2^24)
 *   acc_0 = 0;  acc_k[i] = fround(acc_{k−1}[i] + fround(w_k · x_k[i]))   k in memberId order
 *   W     = fround(Σ w_k)   (the sum in binary64, in memberId order)
 *   avg[i] = fround(acc_N[i] / W)           except: with one accepted input (N = 1), avg = x_1
 * The exception makes a one-input mean the input itself (fround(fround(w·x)/w) is not always
 * x), so a round with a single contribution, as in sequential clusters, passes it on intact.
 * Because each coordinate sees the same ops in the same order, processing many coordinates
 * at once (SIMD) or in any chunking gives identical bits; only the order over inputs matters,
 * and that is fixed by the ascending memberId order that `add` enforces. Likewise adding
 * several inputs to a coordinate in one sweep (acc += w_1·x_1, then w_2·x_2, …, in memberId
 * order) is the same sequence of ops as one sweep per input, so batching changes no bit.
 *
 * Rejected inputs. An input is rejected, and left out as if it had never been added, when
 * adding it to the sum of the inputs accepted before it gives NaN or ±Infinity in some
 * coordinate: it holds NaN/±Infinity, or its weighted values or the running sum overflow
 * float32. Inputs are decided in memberId order, so which inputs are rejected is itself a
 * deterministic function of the inputs. (Once a coordinate's running sum is not finite no
 * later input makes it finite again, so checking a batch's final sums finds every failure;
 * see weightedSum.ts for how the culprit is then identified.)
 *
 * Robust aggregators select values rather than sum them, and what they do sum is defined in
 * their own modules (binary64 sums in a stated order, rounded once to binary32 at the end).
 * Binary64 arithmetic in JavaScript is deterministic too, and Math.sqrt is correctly rounded;
 * other Math functions (exp, log, pow) are not guaranteed identical across engines, so no
 * aggregator uses them.
 */

const fround = Math.fround;

/**
 * Reference kernel: dst[i] = fround(src[i] + fround(w · x[i])). dst may be src. Returns
 * false when some result is NaN or ±Infinity. The wasm kernel `axpy` must match it bit for bit.
 */
export function axpyReference(dst: Float32Array, src: Float32Array, x: Float32Array, w: number): boolean {
  const wf = fround(w);
  let finite = true;
  for (let i = 0; i < dst.length; i++) {
    const s = fround(src[i]! + fround(wf * x[i]!));
    // s - s is NaN exactly when s is NaN or infinite
    if (s - s !== 0) finite = false;
    dst[i] = s;
  }
  return finite;
}

/**
 * Reference kernel for a batch: dst[i] = src[i] + w_0·x_0[i] + w_1·x_1[i] + …, each product
 * and each sum rounded to binary32, the inputs in the order given; the same bits as one
 * axpyReference per input. dst may be src; no x may be dst. Returns false when some final
 * result is NaN or ±Infinity. The wasm kernels `axpy4`, `axpy8` and `axpy16` must match it bit for bit.
 */
export function accumulateReference(dst: Float32Array, src: Float32Array, xs: readonly Float32Array[], ws: readonly number[]): boolean {
  const k = xs.length;
  const wf = ws.map(fround);
  let finite = true;
  for (let i = 0; i < dst.length; i++) {
    let s = src[i]!;
    for (let j = 0; j < k; j++) s = fround(s + fround(wf[j]! * xs[j]![i]!));
    if (s - s !== 0) finite = false;
    dst[i] = s;
  }
  return finite;
}

/** Reference kernel: dst[i] = fround(src[i] / d), the binary32 quotient. dst may be src. */
export function divideReference(dst: Float32Array, src: Float32Array, d: number): void {
  const df = fround(d);
  for (let i = 0; i < dst.length; i++) dst[i] = fround(src[i]! / df);
}

/** Index of the first NaN or ±Infinity in `x`, or −1 if all values are finite. */
export function firstNonFinite(x: Float32Array): number {
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (v - v !== 0) return i;
  }
  return -1;
}
