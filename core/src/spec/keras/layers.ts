import { BadInputError } from '../../util/errors.js';

// The allow-listed Keras layer classes: how each reads its config, what shape it gives and
// which weights it owns. Pure data and arithmetic, so a manifest is validated (and a
// parameter vector sized) without loading tfjs. Shapes are per sample (no batch axis),
// channels last. docs/PROTOCOL.md §13.5 states the same rules for other implementations.

/** How a weight tensor starts when no initial weights are given. */
export type WeightInit = 'glorot' | 'zeros' | 'ones' | 'embedding';

/** One weight tensor of a layer, named `<layer>/<weight>` as in a tfjs `weightsManifest`. */
export interface KerasWeight {
  readonly name: string;
  readonly shape: readonly number[];
  readonly init: WeightInit;
  /** False for BatchNormalization's moving statistics: they are averaged but not trained by gradients. */
  readonly trainable: boolean;
}

/** The activations a layer may name: all built into tfjs and Keras (a custom one would be code). */
export const ACTIVATIONS = ['linear', 'relu', 'relu6', 'elu', 'selu', 'sigmoid', 'hard_sigmoid', 'tanh', 'softmax', 'softplus', 'softsign', 'swish', 'gelu'] as const;
export type KerasActivation = (typeof ACTIVATIONS)[number];

/** The layer classes a topology may use. */
export const LAYER_CLASSES = [
  'InputLayer',
  'Dense',
  'Conv2D',
  'DepthwiseConv2D',
  'MaxPooling2D',
  'AveragePooling2D',
  'GlobalAveragePooling2D',
  'Flatten',
  'Reshape',
  'Dropout',
  'BatchNormalization',
  'Activation',
  'Add',
  'Concatenate',
  'Embedding',
] as const;
export type KerasLayerClass = (typeof LAYER_CLASSES)[number];

/** A layer's settings as tfjs-layers takes them (camelCase), read and checked from its Keras config. */
export type LayerArgs = Readonly<Record<string, unknown>>;

/** What one layer is: its normalised arguments, its output shape and its weights. */
export interface LayerShape {
  readonly args: LayerArgs;
  readonly outputShape: readonly number[];
  readonly weights: readonly KerasWeight[];
}

/** Reads a layer's Keras config; every problem is a BadInputError naming the layer. */
export class ConfigReader {
  constructor(
    readonly layer: string,
    readonly className: string,
    private readonly config: Readonly<Record<string, unknown>>,
  ) {}

  fail(problem: string): never {
    throw new BadInputError(`layer '${this.layer}' (${this.className}): ${problem}`);
  }

  raw(key: string): unknown {
    return this.config[key];
  }

  has(key: string): boolean {
    return this.config[key] !== undefined && this.config[key] !== null;
  }

  int(key: string, fallback?: number, min = 1): number {
    const v = this.config[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > 1 << 24) this.fail(`'${key}' must be an integer ≥ ${min}, not ${JSON.stringify(v)}`);
    return v;
  }

  number(key: string, fallback: number, min: number, max: number): number {
    const v = this.config[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) this.fail(`'${key}' must be a number in [${min}, ${max}], not ${JSON.stringify(v)}`);
    return v;
  }

  bool(key: string, fallback: boolean): boolean {
    const v = this.config[key] ?? fallback;
    if (typeof v !== 'boolean') this.fail(`'${key}' must be true or false, not ${JSON.stringify(v)}`);
    return v;
  }

  /** A 2D size given as one integer or a pair. */
  pair(key: string, fallback?: readonly [number, number]): [number, number] {
    const v = this.config[key] ?? fallback;
    if (typeof v === 'number') return [this.checkInt(key, v), this.checkInt(key, v)];
    if (Array.isArray(v) && v.length === 2) return [this.checkInt(key, v[0]), this.checkInt(key, v[1])];
    this.fail(`'${key}' must be an integer or a pair of integers, not ${JSON.stringify(v)}`);
  }

  padding(): 'valid' | 'same' {
    const v = this.config.padding ?? 'valid';
    if (v !== 'valid' && v !== 'same') this.fail(`padding '${String(v)}' is not supported (valid or same)`);
    return v;
  }

  activation(key = 'activation'): KerasActivation {
    const v = this.config[key] ?? 'linear';
    const name = typeof v === 'string' ? v : typeof v === 'object' && v !== null && 'class_name' in v ? String((v as { class_name: unknown }).class_name) : JSON.stringify(v);
    if (!(ACTIVATIONS as readonly string[]).includes(name)) this.fail(`activation '${name}' is not one of ${ACTIVATIONS.join(', ')}`);
    return name as KerasActivation;
  }

  /** Channels-last only, no regularisers or constraints (Canopy's training would silently skip them), no dilation or groups. */
  checkCommon(): void {
    const format = this.config.data_format;
    if (format !== undefined && format !== null && format !== 'channels_last') this.fail(`data_format '${String(format)}' is not supported; use channels_last`);
    for (const key of ['kernel_regularizer', 'bias_regularizer', 'activity_regularizer', 'depthwise_regularizer', 'embeddings_regularizer', 'gamma_regularizer', 'beta_regularizer']) {
      if (this.has(key)) this.fail(`'${key}' is set; regularisers are not supported (add the penalty to the optimiser instead)`);
    }
    for (const key of ['kernel_constraint', 'bias_constraint', 'depthwise_constraint', 'embeddings_constraint', 'gamma_constraint', 'beta_constraint']) {
      if (this.has(key)) this.fail(`'${key}' is set; weight constraints are not supported`);
    }
    const dilation = this.config.dilation_rate;
    if (dilation !== undefined && dilation !== null && !(dilation === 1 || (Array.isArray(dilation) && dilation.every((d) => d === 1)))) {
      this.fail(`dilation_rate ${JSON.stringify(dilation)} is not supported; only 1`);
    }
    if (this.config.groups !== undefined && this.config.groups !== 1) this.fail(`groups ${JSON.stringify(this.config.groups)} is not supported; only 1`);
  }

  private checkInt(key: string, v: unknown): number {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 1 << 24) this.fail(`'${key}' must hold positive integers, not ${JSON.stringify(v)}`);
    return v;
  }
}

const w = (layer: string, weight: string, shape: readonly number[], init: WeightInit, trainable = true): KerasWeight => ({
  name: `${layer}/${weight}`,
  shape,
  init,
  trainable,
});

function image(r: ConfigReader, s: readonly number[]): [number, number, number] {
  if (s.length !== 3) r.fail(`needs an image input [height, width, channels] but gets [${s.join(', ')}]`);
  return [s[0]!, s[1]!, s[2]!];
}

/** Output length of a window sliding over `n` cells, as tfjs and Keras compute it. */
function slide(r: ConfigReader, n: number, size: number, stride: number, padding: 'valid' | 'same'): number {
  const out = padding === 'same' ? Math.ceil(n / stride) : Math.floor((n - size) / stride) + 1;
  if (out < 1) r.fail(`a ${size}-wide window does not fit an input ${n} wide`);
  return out;
}

/**
 * The arguments, output shape and weights of one layer given its inputs' shapes. Throws
 * BadInputError naming the layer for a config it cannot take or inputs that do not fit.
 */
export function shapeLayer(r: ConfigReader, className: KerasLayerClass, inputs: readonly (readonly number[])[], trainable: boolean): LayerShape {
  r.checkCommon();
  const name = r.layer;
  const single = (): readonly number[] => {
    if (inputs.length !== 1) r.fail(`takes one input, not ${inputs.length}`);
    return inputs[0]!;
  };
  const common = { name, trainable };
  switch (className) {
    case 'InputLayer':
      r.fail('an InputLayer can only be the model input');
      break;
    case 'Dense': {
      const s = single();
      const units = r.int('units');
      const useBias = r.bool('use_bias', true);
      const weights = [w(name, 'kernel', [s[s.length - 1]!, units], 'glorot', trainable)];
      if (useBias) weights.push(w(name, 'bias', [units], 'zeros', trainable));
      return { args: { ...common, units, useBias, activation: r.activation() }, outputShape: [...s.slice(0, -1), units], weights };
    }
    case 'Conv2D':
    case 'DepthwiseConv2D': {
      const [h, wd, c] = image(r, single());
      const kernelSize = r.pair('kernel_size');
      const strides = r.pair('strides', [1, 1]);
      const padding = r.padding();
      const useBias = r.bool('use_bias', true);
      const oh = slide(r, h, kernelSize[0], strides[0], padding);
      const ow = slide(r, wd, kernelSize[1], strides[1], padding);
      const activation = r.activation();
      if (className === 'Conv2D') {
        const filters = r.int('filters');
        const weights = [w(name, 'kernel', [...kernelSize, c, filters], 'glorot', trainable)];
        if (useBias) weights.push(w(name, 'bias', [filters], 'zeros', trainable));
        return { args: { ...common, filters, kernelSize, strides, padding, useBias, activation }, outputShape: [oh, ow, filters], weights };
      }
      const depthMultiplier = r.int('depth_multiplier', 1);
      const weights = [w(name, 'depthwise_kernel', [...kernelSize, c, depthMultiplier], 'glorot', trainable)];
      if (useBias) weights.push(w(name, 'bias', [c * depthMultiplier], 'zeros', trainable));
      return { args: { ...common, kernelSize, strides, padding, depthMultiplier, useBias, activation }, outputShape: [oh, ow, c * depthMultiplier], weights };
    }
    case 'MaxPooling2D':
    case 'AveragePooling2D': {
      const [h, wd, c] = image(r, single());
      const poolSize = r.pair('pool_size', [2, 2]);
      const strides = r.has('strides') ? r.pair('strides') : poolSize;
      const padding = r.padding();
      return {
        args: { ...common, poolSize, strides, padding },
        outputShape: [slide(r, h, poolSize[0], strides[0], padding), slide(r, wd, poolSize[1], strides[1], padding), c],
        weights: [],
      };
    }
    case 'GlobalAveragePooling2D': {
      const [, , c] = image(r, single());
      if (r.bool('keepdims', false)) r.fail('keepdims is not supported');
      return { args: common, outputShape: [c], weights: [] };
    }
    case 'Flatten': {
      const s = single();
      return { args: common, outputShape: [s.reduce((a, b) => a * b, 1)], weights: [] };
    }
    case 'Reshape':
      return reshape(r, single(), common);
    case 'Dropout': {
      const rate = r.number('rate', 0, 0, 0.999);
      if (r.has('noise_shape')) r.fail('noise_shape is not supported');
      return { args: { ...common, rate }, outputShape: single(), weights: [] };
    }
    case 'BatchNormalization':
      return batchNorm(r, single(), common);
    case 'Activation':
      return { args: { ...common, activation: r.activation() }, outputShape: single(), weights: [] };
    case 'Add': {
      if (inputs.length < 2) r.fail(`adds at least two inputs, not ${inputs.length}`);
      const first = inputs[0]!.join(',');
      if (inputs.some((s) => s.join(',') !== first)) r.fail(`adds inputs of different shapes ${inputs.map((s) => `[${s.join(', ')}]`).join(', ')}`);
      return { args: common, outputShape: inputs[0]!, weights: [] };
    }
    case 'Concatenate':
      return concatenate(r, inputs, common);
    case 'Embedding': {
      const s = single();
      if (s.length !== 1) r.fail(`needs an input of token indices [length], not [${s.join(', ')}]`);
      const inputDim = r.int('input_dim');
      const outputDim = r.int('output_dim');
      if (r.bool('mask_zero', false)) r.fail('mask_zero is not supported');
      return { args: { ...common, inputDim, outputDim }, outputShape: [s[0]!, outputDim], weights: [w(name, 'embeddings', [inputDim, outputDim], 'embedding', trainable)] };
    }
  }
}

function reshape(r: ConfigReader, s: readonly number[], common: LayerArgs): LayerShape {
  const target = r.raw('target_shape');
  if (!Array.isArray(target) || target.length < 1 || target.length > 4 || !target.every((d) => d === -1 || (Number.isInteger(d) && d >= 1))) {
    r.fail(`target_shape must be a list of 1-4 positive integers (one may be -1), not ${JSON.stringify(target)}`);
  }
  const size = s.reduce((a, b) => a * b, 1);
  const known = (target as number[]).filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  const free = (target as number[]).filter((d) => d === -1).length;
  if (free > 1 || (free === 1 && size % known !== 0) || (free === 0 && known !== size)) {
    r.fail(`cannot reshape [${s.join(', ')}] (${size} values) to [${(target as number[]).join(', ')}]`);
  }
  const outputShape = (target as number[]).map((d) => (d === -1 ? size / known : d));
  return { args: { ...common, targetShape: outputShape }, outputShape, weights: [] };
}

function batchNorm(r: ConfigReader, s: readonly number[], common: LayerArgs & { name: string; trainable: boolean }): LayerShape {
  const raw = r.raw('axis') ?? -1;
  const axis = Array.isArray(raw) && raw.length === 1 ? raw[0] : raw;
  if (axis !== -1 && axis !== s.length) r.fail(`axis ${JSON.stringify(raw)} is not supported; only the last (channels) axis`);
  const channels = s[s.length - 1]!;
  const center = r.bool('center', true);
  const scale = r.bool('scale', true);
  const momentum = r.number('momentum', 0.99, 0, 1);
  const epsilon = r.number('epsilon', 1e-3, 0, 1);
  const { name, trainable } = common;
  const weights: KerasWeight[] = [];
  if (scale) weights.push(w(name, 'gamma', [channels], 'ones', trainable));
  if (center) weights.push(w(name, 'beta', [channels], 'zeros', trainable));
  weights.push(w(name, 'moving_mean', [channels], 'zeros', false), w(name, 'moving_variance', [channels], 'ones', false));
  return { args: { ...common, axis: -1, center, scale, momentum, epsilon }, outputShape: s, weights };
}

function concatenate(r: ConfigReader, inputs: readonly (readonly number[])[], common: LayerArgs): LayerShape {
  if (inputs.length < 2) r.fail(`concatenates at least two inputs, not ${inputs.length}`);
  const rank = inputs[0]!.length;
  const raw = r.int('axis', -1, -8);
  const axis = raw < 0 ? rank + 1 + raw : raw;
  // Keras counts the batch axis: axis 1 is the first per-sample axis.
  const at = axis - 1;
  if (at < 0 || at >= rank || inputs.some((s) => s.length !== rank)) r.fail(`cannot concatenate inputs ${inputs.map((s) => `[${s.join(', ')}]`).join(', ')} on axis ${raw}`);
  const ok = inputs.every((s) => s.every((d, i) => i === at || d === inputs[0]![i]));
  if (!ok) r.fail(`inputs ${inputs.map((s) => `[${s.join(', ')}]`).join(', ')} differ outside axis ${raw}`);
  const outputShape = inputs[0]!.map((d, i) => (i === at ? inputs.reduce((n, s) => n + s[i]!, 0) : d));
  return { args: { ...common, axis: -1 === raw ? -1 : axis }, outputShape, weights: [] };
}
