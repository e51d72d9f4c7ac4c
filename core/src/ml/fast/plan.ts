import type { Activation, Architecture } from '../layout.js';

// The fast path's static plan of a model: every layer's shapes and the byte offset of every
// buffer it reads or writes in one wasm memory, fixed once per (architecture, batch size).

/** A conv layer followed by 2×2/2 max pooling, as Canopy's image models use them. */
export interface ConvStep {
  readonly kind: 'conv';
  readonly h: number;
  readonly w: number;
  readonly ci: number;
  readonly size: number;
  readonly co: number;
  /** Rows and columns of zero padding before the image ('same': (size − 1)/2, rounded down). */
  readonly pad: number;
  /** Conv output size. */
  readonly oh: number;
  readonly ow: number;
  /** Pooled output size (odd trailing rows and columns are dropped). */
  readonly ph: number;
  readonly pw: number;
  /** size·size·ci: the length of one receptive field. */
  readonly k: number;
  readonly weights: number;
  readonly bias: number;
  readonly gradWeights: number;
  readonly gradBias: number;
  /** Byte offsets: the layer's input, its conv output z (after ReLU), its pooled output, ∂loss/∂pooled, ∂loss/∂input. */
  readonly input: number;
  readonly z: number;
  readonly out: number;
  readonly gradOut: number;
  /** -1 for the first layer, whose input gradient is never needed. */
  readonly gradInput: number;
  readonly relu: boolean;
}

/** A fully connected layer. */
export interface DenseStep {
  readonly kind: 'dense';
  readonly inputs: number;
  readonly units: number;
  readonly weights: number;
  readonly bias: number;
  readonly gradWeights: number;
  readonly gradBias: number;
  readonly input: number;
  readonly out: number;
  readonly gradOut: number;
  readonly gradInput: number;
  readonly relu: boolean;
}

export type Step = ConvStep | DenseStep;

/**
 * The private buffers of one thread (lane) of a step: the thread's share of the gradients and
 * its scratch space. Lane 0's gradients are the plan's.
 */
export interface Lane {
  readonly grads: number;
  /** One sample's receptive fields (im2col) for the largest conv layer, and their gradient. */
  readonly cols: number;
  readonly gradCols: number;
  /** The conv output gradient of one sample, for the largest conv layer. */
  readonly gradZ: number;
  /** A transposed copy of the largest weight matrix (for input gradients). */
  readonly transposed: number;
  /** The matrix product's packing space. */
  readonly scratch: number;
}

/** Every buffer of a model's training step, as byte offsets into one memory of `bytes` bytes. */
export interface Plan {
  readonly batch: number;
  readonly threads: number;
  readonly inputSize: number;
  readonly numClasses: number;
  readonly paramCount: number;
  readonly steps: readonly Step[];
  /** The flat parameters in paramLayout order, and their gradients in the same layout. */
  readonly params: number;
  readonly grads: number;
  /** The batch's inputs [batch, inputSize]. */
  readonly input: number;
  /** Logits and ∂loss/∂logits, [batch, numClasses]. */
  readonly logits: number;
  readonly gradLogits: number;
  readonly lanes: readonly Lane[];
  /** The batch's labels (int32), read by every lane. */
  readonly labels: number;
  /** Int32 words the lanes synchronise on, and per-lane float64 loss sums (see threads.ts). */
  readonly control: number;
  readonly bytes: number;
}

/** Int32 words of the control block: generation, n, stop, then one "done" word per lane. */
export const CONTROL_WORDS = 64;
/** Byte offset, within the control block, of the per-lane float64 loss sums and correct counts. */
export const CONTROL_STATS = CONTROL_WORDS * 4;
export const MAX_THREADS = 32;

/** Why the fast path cannot run `arch`, or undefined when it can. */
export function unsupportedReason(arch: Architecture): string | undefined {
  const layers = arch.layers;
  for (let i = 0; i < layers.length; i++) {
    const l = layers[i]!;
    if (l.kind === 'conv' && layers[i + 1]?.kind !== 'maxpool') return `conv layer '${l.name}' is not followed by max pooling`;
    if (l.kind === 'maxpool' && layers[i - 1]?.kind !== 'conv') return 'max pooling that does not follow a conv layer';
    if ((l.kind === 'conv' || l.kind === 'dense') && !isKnownActivation(l.activation)) return `activation '${String(l.activation)}'`;
  }
  if (layers[layers.length - 1]?.kind !== 'dense') return 'the last layer is not dense';
  if (layers.some((l) => l.kind === 'conv') && arch.imageShape === undefined) return 'a conv layer without an image input shape';
  return undefined;
}

function isKnownActivation(a: Activation): boolean {
  return a === 'relu' || a === 'linear';
}

/** Lays out every buffer of one training step for `arch` and batches of up to `batch` samples. */
export function makePlan(arch: Architecture, batch: number, numClasses: number, threads = 1): Plan {
  let top = 0;
  // 64-byte aligned: no SIMD load splits a cache line, and buffers never share one.
  const alloc = (floats: number): number => {
    const at = top;
    top += Math.ceil((floats * 4) / 64) * 64;
    return at;
  };
  const paramCount = countParams(arch);
  const params = alloc(paramCount);
  const grads = alloc(paramCount);
  const input = alloc(batch * arch.inputSize);
  let current = input;
  let currentGrad = -1;
  let shape: [number, number, number] = arch.imageShape ? [...arch.imageShape] : [1, 1, arch.inputSize];
  let paramAt = params;
  let gradAt = grads;
  let maxCols = 0;
  let maxZ = 0;
  let maxTransposed = 0;
  let maxPackA = 0;
  let maxPackB = 0;
  const steps: Step[] = [];
  const pack = (m: number, n: number, k: number): void => {
    maxPackA = Math.max(maxPackA, Math.ceil(m / 4) * 4 * k);
    maxPackB = Math.max(maxPackB, 8 * k);
    void n;
  };
  for (const layer of arch.layers) {
    if (layer.kind === 'conv') {
      const [h, w, ci] = shape;
      const pad = layer.padding === 'same' ? Math.floor((layer.size - 1) / 2) : 0;
      const oh = layer.padding === 'same' ? h : h - layer.size + 1;
      const ow = layer.padding === 'same' ? w : w - layer.size + 1;
      const ph = Math.floor(oh / 2);
      const pw = Math.floor(ow / 2);
      const co = layer.filters;
      const k = layer.size * layer.size * ci;
      const weights = paramAt;
      const gradWeights = gradAt;
      paramAt += k * co * 4;
      gradAt += k * co * 4;
      const bias = paramAt;
      const gradBias = gradAt;
      paramAt += co * 4;
      gradAt += co * 4;
      const z = alloc(batch * oh * ow * co);
      const out = alloc(batch * ph * pw * co);
      const gradOut = alloc(batch * ph * pw * co);
      steps.push({
        kind: 'conv', h, w, ci, size: layer.size, co, pad, oh, ow, ph, pw, k, weights, bias, gradWeights, gradBias,
        input: current, z, out, gradOut, gradInput: currentGrad, relu: layer.activation === 'relu',
      });
      maxCols = Math.max(maxCols, oh * ow * k);
      maxZ = Math.max(maxZ, oh * ow * co);
      maxTransposed = Math.max(maxTransposed, k * co);
      // forward: cols·W; filter gradient: colsᵀ·dz; input gradient: dz·Wᵀ
      pack(oh * ow, co, k);
      pack(k, co, oh * ow);
      pack(oh * ow, k, co);
      current = out;
      currentGrad = gradOut;
      shape = [ph, pw, co];
    } else if (layer.kind === 'dense') {
      const inputs = layer.inputs;
      const units = layer.units;
      const weights = paramAt;
      const gradWeights = gradAt;
      paramAt += inputs * units * 4;
      gradAt += inputs * units * 4;
      const bias = paramAt;
      const gradBias = gradAt;
      paramAt += units * 4;
      gradAt += units * 4;
      const out = alloc(batch * units);
      const gradOut = alloc(batch * units);
      steps.push({ kind: 'dense', inputs, units, weights, bias, gradWeights, gradBias, input: current, out, gradOut, gradInput: currentGrad, relu: layer.activation === 'relu' });
      maxTransposed = Math.max(maxTransposed, inputs * units);
      pack(batch, units, inputs);
      pack(inputs, units, batch);
      pack(batch, inputs, units);
      current = out;
      currentGrad = gradOut;
      shape = [1, 1, units];
    }
  }
  const last = steps[steps.length - 1]!;
  const lanes: Lane[] = [];
  for (let t = 0; t < threads; t++) {
    lanes.push({
      grads: t === 0 ? grads : alloc(paramCount),
      cols: alloc(maxCols),
      gradCols: alloc(maxCols),
      gradZ: alloc(maxZ),
      transposed: alloc(maxTransposed),
      scratch: alloc(maxPackA + maxPackB + 16),
    });
  }
  const labels = alloc(batch);
  const control = alloc(CONTROL_WORDS + 4 * MAX_THREADS);
  return {
    batch, threads, inputSize: arch.inputSize, numClasses, paramCount, steps, params, grads, input,
    logits: last.out, gradLogits: last.gradOut, lanes, labels, control, bytes: top,
  };
}

function countParams(arch: Architecture): number {
  let n = 0;
  for (const l of arch.layers) {
    if (l.kind === 'dense') n += l.inputs * l.units + l.units;
    if (l.kind === 'conv') n += l.size * l.size * l.inChannels * l.filters + l.filters;
  }
  return n;
}
