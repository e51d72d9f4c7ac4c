import type { Architecture } from '../layout.js';
import { instantiateKernels, type FastKernels } from './kernels.js';
import { makePlan, type ConvStep, type DenseStep, type Plan } from './plan.js';

/** Loss and accuracy of one batch. */
export interface BatchStats {
  /** Sum over the batch's samples of their cross-entropy loss. */
  readonly lossSum: number;
  readonly correct: number;
}

/**
 * One model's training step, compiled once: every buffer preallocated in one wasm memory, the
 * matrix products in WebAssembly SIMD (kernels.wat), the cheap elementwise passes (bias,
 * ReLU, pooling, im2col, softmax) as plain loops over the same memory. No tensors, no tape.
 *
 * It computes what models.ts's tfjs layers compute, including their corner cases: ReLU's
 * gradient is 0 at 0, a 2×2 pooling window passes its gradient to every position equal to its
 * max, odd trailing rows and columns are never pooled, and the loss is the mean softmax
 * cross-entropy with gradient (softmax − onehot)·(1/n). Single-threaded and in a fixed order,
 * so equal inputs give bit-identical parameters.
 */
export class FastTrainer {
  readonly plan: Plan;
  private readonly k: FastKernels;
  private readonly f: Float32Array;
  /** The parameters, in paramLayout order (a view into the trainer's memory). */
  readonly params: Float32Array;
  /** The last step's gradients, same layout. */
  readonly grads: Float32Array;
  /** The memory the kernels run over (shared, so worker threads can attach to it). */
  readonly buffer: ArrayBufferLike;

  constructor(arch: Architecture, batch: number, numClasses: number) {
    this.plan = makePlan(arch, batch, numClasses);
    const { memory, kernels } = instantiateKernels(this.plan.bytes);
    this.k = kernels;
    this.buffer = memory.buffer;
    this.f = new Float32Array(memory.buffer);
    this.params = new Float32Array(memory.buffer, this.plan.params, this.plan.paramCount);
    this.grads = new Float32Array(memory.buffer, this.plan.grads, this.plan.paramCount);
  }

  /** The batch input buffer, [batch, inputSize]: fill its first n rows before {@link gradients}. */
  get input(): Float32Array {
    return new Float32Array(this.buffer, this.plan.input, this.plan.batch * this.plan.inputSize);
  }

  /** Forward and backward pass over the first n samples of the input: fills {@link grads}. */
  gradients(labels: Int32Array, n: number): BatchStats {
    const steps = this.plan.steps;
    for (const s of steps) {
      if (s.kind === 'dense') this.denseForward(s, n);
      else this.convForward(s, n);
    }
    const stats = this.loss(labels, n);
    for (let i = steps.length - 1; i >= 0; i--) {
      const s = steps[i]!;
      if (s.kind === 'dense') this.denseBackward(s, n);
      else this.convBackward(s, n);
    }
    return stats;
  }

  /** One SGD step w ← w − lr·g on the gradients of {@link gradients}. */
  applySgd(lr: number): void {
    this.k.sgd(this.plan.params, this.plan.grads, this.plan.paramCount, -Math.fround(lr));
  }

  /** C = X + A·B (see kernels.wat's gemm): X is 0, the old C ('acc') or the bias row at `bias`; then ReLU if asked. */
  private gemm(m: number, n: number, k: number, a: number, sai: number, sak: number, b: number, ldb: number, c: number, ldc: number, init: 'zero' | 'acc' | number, relu = false): void {
    const mode = init === 'zero' ? 0 : init === 'acc' ? 1 : 2;
    this.k.gemm(m, n, k, a, sai, sak, b, ldb, c, ldc, mode, mode === 2 ? (init as number) : 0, relu ? 1 : 0, this.plan.scratch);
  }

  private denseForward(s: DenseStep, n: number): void {
    // out = relu?(b + input·W)
    this.gemm(n, s.units, s.inputs, s.input, s.inputs, 1, s.weights, s.units, s.out, s.units, s.bias, s.relu);
  }

  private denseBackward(s: DenseStep, n: number): void {
    if (s.relu) this.k.reluGrad(s.gradOut, s.out, n * s.units);
    // dW = inputᵀ·g, db = Σ_rows g, d(input) = g·Wᵀ
    this.gemm(s.inputs, s.units, n, s.input, 1, s.inputs, s.gradOut, s.units, s.gradWeights, s.units, 'zero');
    this.k.columnSums(s.gradBias, s.gradOut, n, s.units, 0);
    if (s.gradInput >= 0) {
      this.transpose(this.plan.transposed, s.weights, s.inputs, s.units);
      this.gemm(n, s.inputs, s.units, s.gradOut, s.units, 1, this.plan.transposed, s.inputs, s.gradInput, s.inputs, 'zero');
    }
  }

  /** dst [cols, rows] = srcᵀ for src [rows, cols], in 16×16 blocks so that both sides stay in cache. */
  private transpose(dst: number, src: number, rows: number, cols: number): void {
    const f = this.f;
    const d = dst >> 2;
    const o = src >> 2;
    const B = 16;
    for (let r0 = 0; r0 < rows; r0 += B) {
      const r1 = Math.min(rows, r0 + B);
      for (let c0 = 0; c0 < cols; c0 += B) {
        const c1 = Math.min(cols, c0 + B);
        for (let r = r0; r < r1; r++) {
          const row = o + r * cols;
          for (let c = c0; c < c1; c++) f[d + c * rows + r] = f[row + c]!;
        }
      }
    }
  }

  /** One sample's receptive fields, [oh·ow, k], at plan.cols. */
  private im2col(s: ConvStep, image: number): void {
    const f = this.f;
    const { h, w, ci, size, pad, oh, ow, k } = s;
    const x = image >> 2;
    let o = this.plan.cols >> 2;
    const run = size * ci;
    for (let r = 0; r < oh; r++) {
      for (let c = 0; c < ow; c++) {
        const c0 = c - pad;
        const inside = c0 >= 0 && c0 + size <= w;
        for (let i = 0; i < size; i++) {
          const y = r - pad + i;
          if (y < 0 || y >= h) {
            f.fill(0, o, o + run);
          } else if (inside) {
            const from = x + (y * w + c0) * ci;
            if (run <= 16) for (let t = 0; t < run; t++) f[o + t] = f[from + t]!;
            else f.copyWithin(o, from, from + run);
          } else {
            for (let j = 0; j < size; j++) {
              const xx = c0 + j;
              const to = o + j * ci;
              if (xx < 0 || xx >= w) for (let t = 0; t < ci; t++) f[to + t] = 0;
              else for (let t = 0, from = x + (y * w + xx) * ci; t < ci; t++) f[to + t] = f[from + t]!;
            }
          }
          o += run;
        }
      }
    }
    void k;
  }

  /** Adds one sample's receptive-field gradients (plan.gradCols) back onto its image gradient. */
  private col2im(s: ConvStep, image: number): void {
    const f = this.f;
    const { h, w, ci, size, pad, oh, ow } = s;
    const x = image >> 2;
    let o = this.plan.gradCols >> 2;
    const run = size * ci;
    for (let r = 0; r < oh; r++) {
      for (let c = 0; c < ow; c++) {
        const c0 = c - pad;
        for (let i = 0; i < size; i++) {
          const y = r - pad + i;
          if (y >= 0 && y < h) {
            for (let j = 0; j < size; j++) {
              const xx = c0 + j;
              if (xx < 0 || xx >= w) continue;
              const to = x + (y * w + xx) * ci;
              const from = o + j * ci;
              for (let t = 0; t < ci; t++) f[to + t] = f[to + t]! + f[from + t]!;
            }
          }
          o += run;
        }
      }
    }
  }

  private convForward(s: ConvStep, n: number): void {
    const { h, w, ci, oh, ow, co, k } = s;
    const zSize = oh * ow * co;
    for (let b = 0; b < n; b++) {
      this.im2col(s, s.input + b * h * w * ci * 4);
      this.gemm(oh * ow, co, k, this.plan.cols, k, 1, s.weights, co, s.z + b * zSize * 4, co, s.bias, s.relu);
    }
    if (co % 4 === 0) this.k.maxPool(s.z, s.out, n, oh, ow, co);
    else this.maxPool(s, n);
  }

  /** maxPool for channel counts the SIMD kernel does not take. */
  private maxPool(s: ConvStep, n: number): void {
    const f = this.f;
    const { oh, ow, ph, pw, co } = s;
    for (let b = 0; b < n; b++) {
      const z = (s.z >> 2) + b * oh * ow * co;
      let o = (s.out >> 2) + b * ph * pw * co;
      for (let r = 0; r < ph; r++) {
        for (let c = 0; c < pw; c++) {
          const p00 = z + ((2 * r) * ow + 2 * c) * co;
          const p01 = p00 + co;
          const p10 = p00 + ow * co;
          const p11 = p10 + co;
          for (let t = 0; t < co; t++, o++) {
            const a = Math.max(f[p00 + t]!, f[p01 + t]!);
            const d = Math.max(f[p10 + t]!, f[p11 + t]!);
            f[o] = Math.max(a, d);
          }
        }
      }
    }
  }

  /** One sample's ∂loss/∂z at plan.gradZ, from ∂loss/∂pooled: ReLU-masked, routed to each window's max. */
  private poolGrad(s: ConvStep, b: number): void {
    const { oh, ow, ph, pw, co } = s;
    if (co % 4 === 0) {
      const pooled = b * ph * pw * co * 4;
      this.k.poolGrad(s.z + b * oh * ow * co * 4, s.out + pooled, s.gradOut + pooled, this.plan.gradZ, oh, ow, co, s.relu ? 1 : 0);
      return;
    }
    const f = this.f;
    const z = (s.z >> 2) + b * oh * ow * co;
    const dz = this.plan.gradZ >> 2;
    f.fill(0, dz, dz + oh * ow * co);
    let o = b * ph * pw * co;
    const y = s.out >> 2;
    const dy = s.gradOut >> 2;
    for (let r = 0; r < ph; r++) {
      for (let c = 0; c < pw; c++) {
        const q00 = ((2 * r) * ow + 2 * c) * co;
        const q01 = q00 + co;
        const q10 = q00 + ow * co;
        const q11 = q10 + co;
        for (let t = 0; t < co; t++, o++) {
          const m = f[y + o]!;
          // after a ReLU a window whose max is 0 passes nothing (tfjs: dy·step(y))
          if (s.relu && !(m > 0)) continue;
          const g = f[dy + o]!;
          if (f[z + q00 + t] === m) f[dz + q00 + t] = g;
          if (f[z + q01 + t] === m) f[dz + q01 + t] = g;
          if (f[z + q10 + t] === m) f[dz + q10 + t] = g;
          if (f[z + q11 + t] === m) f[dz + q11 + t] = g;
        }
      }
    }
  }

  private convBackward(s: ConvStep, n: number): void {
    const { h, w, ci, oh, ow, co, k } = s;
    const f = this.f;
    const px = oh * ow;
    if (s.gradInput >= 0) {
      f.fill(0, s.gradInput >> 2, (s.gradInput >> 2) + n * h * w * ci);
      this.transpose(this.plan.transposed, s.weights, k, co);
    }
    const dz = this.plan.gradZ;
    for (let b = 0; b < n; b++) {
      this.poolGrad(s, b);
      // dW += colsᵀ·dz over this sample's pixels; db += Σ dz
      this.im2col(s, s.input + b * h * w * ci * 4);
      this.gemm(k, co, px, this.plan.cols, 1, k, dz, co, s.gradWeights, co, b > 0 ? 'acc' : 'zero');
      this.k.columnSums(s.gradBias, dz, px, co, b > 0 ? 1 : 0);
      if (s.gradInput >= 0) {
        // d(cols) = dz·Wᵀ, folded back onto the image
        this.gemm(px, k, co, dz, co, 1, this.plan.transposed, k, this.plan.gradCols, k, 'zero');
        this.col2im(s, s.gradInput + b * h * w * ci * 4);
      }
    }
  }

  /** Softmax cross-entropy over the logits: fills plan.gradLogits with (softmax − onehot)·(1/n). */
  private loss(labels: Int32Array, n: number): BatchStats {
    const f = this.f;
    const kc = this.plan.numClasses;
    const z = this.plan.logits >> 2;
    const g = this.plan.gradLogits >> 2;
    const scale = Math.fround(1 / n);
    let lossSum = 0;
    let correct = 0;
    for (let i = 0; i < n; i++) {
      const row = z + i * kc;
      let max = f[row]!;
      let arg = 0;
      for (let c = 1; c < kc; c++) {
        if (f[row + c]! > max) {
          max = f[row + c]!;
          arg = c;
        }
      }
      const label = labels[i]!;
      if (arg === label) correct++;
      let sum = 0;
      for (let c = 0; c < kc; c++) {
        const e = Math.fround(Math.exp(Math.fround(f[row + c]! - max)));
        f[g + i * kc + c] = e;
        sum = Math.fround(sum + e);
      }
      lossSum += Math.log(sum) - Math.fround(f[row + label]! - max);
      for (let c = 0; c < kc; c++) {
        const p = Math.fround(f[g + i * kc + c]! / sum);
        f[g + i * kc + c] = Math.fround((c === label ? Math.fround(p - 1) : p) * scale);
      }
    }
    return { lossSum, correct };
  }
}
