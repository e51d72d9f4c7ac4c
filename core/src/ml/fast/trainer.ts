import type { Architecture } from '../layout.js';
import { attachKernels, instantiateKernels, type FastKernels, type WasmMemory } from './kernels.js';
import { CONTROL_STATS, MAX_THREADS, makePlan, type ConvStep, type DenseStep, type Lane, type Plan } from './plan.js';

/** Other threads running lanes 1.. of a trainer's steps (threads.ts). */
export interface LaneTeam {
  /** Starts lanes 1.. on the first n samples (labels already in the plan's buffer). */
  start(n: number): void;
  /** Returns once every lane started has finished. */
  wait(): void;
}

/** Samples [from, to) of lane t of T over a batch of n. */
export function laneRange(t: number, T: number, n: number): [number, number] {
  return [Math.floor((t * n) / T), Math.floor(((t + 1) * n) / T)];
}

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
  readonly memory: WasmMemory;
  /** Set while the lanes of other threads run: see threads.ts. */
  private team: LaneTeam | undefined;

  /** A trainer with its own memory; `threads` lanes split each batch (lane 0 runs in this thread). */
  constructor(arch: Architecture, batch: number, numClasses: number, threads = 1, attachTo?: WasmMemory) {
    this.plan = makePlan(arch, batch, numClasses, threads);
    if (attachTo === undefined) {
      const { memory, kernels } = instantiateKernels(this.plan.bytes);
      this.k = kernels;
      this.memory = memory;
    } else {
      this.k = attachKernels(attachTo);
      this.memory = attachTo;
    }
    this.f = new Float32Array(this.memory.buffer);
    this.params = new Float32Array(this.memory.buffer, this.plan.params, this.plan.paramCount);
    this.grads = new Float32Array(this.memory.buffer, this.plan.grads, this.plan.paramCount);
  }

  /** The batch input buffer, [batch, inputSize]: fill its first n rows before {@link gradients}. */
  get input(): Float32Array {
    return new Float32Array(this.memory.buffer, this.plan.input, this.plan.batch * this.plan.inputSize);
  }

  /** Lets {@link gradients} hand lanes 1.. to other threads (threads.ts). */
  useTeam(team: LaneTeam | undefined): void {
    this.team = team;
  }

  /**
   * Forward and backward pass over the first n samples of the input: fills {@link grads}.
   * With several lanes, lane t takes samples [⌊tn/T⌋, ⌊(t+1)n/T⌋) and its share of the
   * gradient, and the shares are added in lane order: the same bits whichever thread ends first.
   */
  gradients(labels: Int32Array, n: number): BatchStats {
    const T = this.plan.threads;
    if (T === 1) return this.runLane(0, labels, n);
    new Int32Array(this.memory.buffer, this.plan.labels, n).set(labels.subarray(0, n));
    const team = this.team;
    if (team !== undefined) team.start(n);
    else for (let t = 1; t < T; t++) this.runLaneStats(t, n);
    const own = this.runLane(0, labels, n);
    team?.wait();
    // lane 0 is empty when n < threads: the lanes' shares are then added to zeros
    if (laneRange(0, T, n)[1] === 0) this.grads.fill(0);
    const stats = new Float64Array(this.memory.buffer, this.plan.control + CONTROL_STATS, 2 * MAX_THREADS);
    let lossSum = own.lossSum;
    let correct = own.correct;
    for (let t = 1; t < T; t++) {
      if (laneRange(t, T, n)[0] === laneRange(t, T, n)[1]) continue;
      lossSum += stats[2 * t]!;
      correct += stats[2 * t + 1]!;
      // grads + 1·lane's share, as f32 (the SGD kernel with lr = −1)
      this.k.sgd(this.plan.grads, this.plan.lanes[t]!.grads, this.plan.paramCount, 1);
    }
    return { lossSum, correct };
  }

  /** Runs lane t on the labels in the plan's shared label buffer and leaves its loss in the control block. */
  runLaneStats(t: number, n: number): void {
    const labels = new Int32Array(this.memory.buffer, this.plan.labels, n);
    const r = this.runLane(t, labels, n);
    const stats = new Float64Array(this.memory.buffer, this.plan.control + CONTROL_STATS, 2 * MAX_THREADS);
    stats[2 * t] = r.lossSum;
    stats[2 * t + 1] = r.correct;
  }

  private runLane(t: number, labels: Int32Array, n: number): BatchStats {
    const [from, to] = laneRange(t, this.plan.threads, n);
    if (from === to) return { lossSum: 0, correct: 0 };
    const lane = this.plan.lanes[t]!;
    const steps = this.plan.steps;
    for (const s of steps) {
      if (s.kind === 'dense') this.denseForward(s, from, to, lane);
      else this.convForward(s, from, to, lane);
    }
    const stats = this.loss(labels, from, to, n);
    for (let i = steps.length - 1; i >= 0; i--) {
      const s = steps[i]!;
      if (s.kind === 'dense') this.denseBackward(s, from, to, lane);
      else this.convBackward(s, from, to, lane);
    }
    return stats;
  }

  /** One SGD step w ← w − lr·g on the gradients of {@link gradients}. */
  applySgd(lr: number): void {
    this.k.sgd(this.plan.params, this.plan.grads, this.plan.paramCount, -Math.fround(lr));
  }

  /** C = X + A·B (see kernels.wat's gemm): X is 0, the old C ('acc') or the bias row at `bias`; then ReLU if asked. */
  private gemm(lane: Lane, m: number, n: number, k: number, a: number, sai: number, sak: number, b: number, ldb: number, c: number, ldc: number, init: 'zero' | 'acc' | number, relu = false): void {
    const mode = init === 'zero' ? 0 : init === 'acc' ? 1 : 2;
    this.k.gemm(m, n, k, a, sai, sak, b, ldb, c, ldc, mode, mode === 2 ? (init as number) : 0, relu ? 1 : 0, lane.scratch);
  }

  private denseForward(s: DenseStep, from: number, to: number, lane: Lane): void {
    // out = relu?(b + input·W)
    this.gemm(lane, to - from, s.units, s.inputs, s.input + from * s.inputs * 4, s.inputs, 1, s.weights, s.units, s.out + from * s.units * 4, s.units, s.bias, s.relu);
  }

  private denseBackward(s: DenseStep, from: number, to: number, lane: Lane): void {
    const g = s.gradOut + from * s.units * 4;
    const m = to - from;
    const shift = lane.grads - this.plan.grads;
    if (s.relu) this.k.reluGrad(g, s.out + from * s.units * 4, m * s.units);
    // dW = inputᵀ·g, db = Σ_rows g, d(input) = g·Wᵀ
    this.gemm(lane, s.inputs, s.units, m, s.input + from * s.inputs * 4, 1, s.inputs, g, s.units, s.gradWeights + shift, s.units, 'zero');
    this.k.columnSums(s.gradBias + shift, g, m, s.units, 0);
    if (s.gradInput >= 0) {
      this.transpose(lane.transposed, s.weights, s.inputs, s.units);
      this.gemm(lane, m, s.inputs, s.units, g, s.units, 1, lane.transposed, s.inputs, s.gradInput + from * s.inputs * 4, s.inputs, 'zero');
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
  private im2col(s: ConvStep, image: number, lane: Lane): void {
    const f = this.f;
    const { h, w, ci, size, pad, oh, ow, k } = s;
    const x = image >> 2;
    let o = lane.cols >> 2;
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
  private col2im(s: ConvStep, image: number, lane: Lane): void {
    const f = this.f;
    const { h, w, ci, size, pad, oh, ow } = s;
    const x = image >> 2;
    let o = lane.gradCols >> 2;
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

  private convForward(s: ConvStep, from: number, to: number, lane: Lane): void {
    const { h, w, ci, oh, ow, co, ph, pw, k } = s;
    const zSize = oh * ow * co;
    for (let b = from; b < to; b++) {
      this.im2col(s, s.input + b * h * w * ci * 4, lane);
      this.gemm(lane, oh * ow, co, k, lane.cols, k, 1, s.weights, co, s.z + b * zSize * 4, co, s.bias, s.relu);
    }
    if (co % 4 === 0) this.k.maxPool(s.z + from * zSize * 4, s.out + from * ph * pw * co * 4, to - from, oh, ow, co);
    else this.maxPool(s, from, to);
  }

  /** maxPool for channel counts the SIMD kernel does not take. */
  private maxPool(s: ConvStep, from: number, to: number): void {
    const f = this.f;
    const { oh, ow, ph, pw, co } = s;
    for (let b = from; b < to; b++) {
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
  private poolGrad(s: ConvStep, b: number, lane: Lane): void {
    const { oh, ow, ph, pw, co } = s;
    if (co % 4 === 0) {
      const pooled = b * ph * pw * co * 4;
      this.k.poolGrad(s.z + b * oh * ow * co * 4, s.out + pooled, s.gradOut + pooled, lane.gradZ, oh, ow, co, s.relu ? 1 : 0);
      return;
    }
    const f = this.f;
    const z = (s.z >> 2) + b * oh * ow * co;
    const dz = lane.gradZ >> 2;
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

  private convBackward(s: ConvStep, from: number, to: number, lane: Lane): void {
    const { h, w, ci, oh, ow, co, k } = s;
    const f = this.f;
    const px = oh * ow;
    const shift = lane.grads - this.plan.grads;
    if (s.gradInput >= 0) {
      f.fill(0, (s.gradInput >> 2) + from * h * w * ci, (s.gradInput >> 2) + to * h * w * ci);
      this.transpose(lane.transposed, s.weights, k, co);
    }
    const dz = lane.gradZ;
    for (let b = from; b < to; b++) {
      this.poolGrad(s, b, lane);
      // dW += colsᵀ·dz over this sample's pixels; db += Σ dz
      this.im2col(s, s.input + b * h * w * ci * 4, lane);
      this.gemm(lane, k, co, px, lane.cols, 1, k, dz, co, s.gradWeights + shift, co, b > from ? 'acc' : 'zero');
      this.k.columnSums(s.gradBias + shift, dz, px, co, b > from ? 1 : 0);
      if (s.gradInput >= 0) {
        // d(cols) = dz·Wᵀ, folded back onto the image
        this.gemm(lane, px, k, co, dz, co, 1, lane.transposed, k, lane.gradCols, k, 'zero');
        this.col2im(s, s.gradInput + b * h * w * ci * 4, lane);
      }
    }
  }

  /** Softmax cross-entropy over the logits: fills plan.gradLogits with (softmax − onehot)·(1/n). */
  private loss(labels: Int32Array, from: number, to: number, n: number): BatchStats {
    const f = this.f;
    const kc = this.plan.numClasses;
    const z = this.plan.logits >> 2;
    const g = this.plan.gradLogits >> 2;
    const scale = Math.fround(1 / n);
    let lossSum = 0;
    let correct = 0;
    for (let i = from; i < to; i++) {
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
