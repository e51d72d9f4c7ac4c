import { UnsupportedError } from '../util/errors.js';
import type { BuiltinModelSpec, ModelSpec } from '../spec/ml.js';
import { analyzeKeras, type KerasGraph } from '../spec/keras/topology.js';

// The architecture of every model kind, and the flat parameter layout derived from it.
// Pure (no tfjs) so that the protocol core, the simulator and manifest validation can size
// parameter vectors without loading an ML backend. models.ts builds its layers from the same
// description, so the tfjs model and this layout cannot drift apart.

/** One named parameter tensor in a model's flat parameter vector. */
export interface ParamShape {
  readonly name: string;
  readonly shape: readonly number[];
}

/** Activation applied after a dense or conv layer. */
export type Activation = 'relu' | 'linear';

/** One layer of a model, in forward order. */
export type LayerDef =
  | { readonly kind: 'dense'; readonly name: string; readonly inputs: number; readonly units: number; readonly activation: Activation }
  | {
      readonly kind: 'conv';
      readonly name: string;
      readonly size: number;
      readonly inChannels: number;
      readonly filters: number;
      readonly padding: 'same' | 'valid';
      readonly activation: Activation;
    }
  | { readonly kind: 'maxpool'; readonly size: 2 }
  | { readonly kind: 'flatten' };

/**
 * A model as layers. `imageShape` ([h, w, c]) is set for convolutional models: their input is
 * reshaped to it first. Dense models flatten their input to `inputSize` features.
 */
export interface Architecture {
  readonly inputSize: number;
  readonly imageShape?: readonly [number, number, number];
  readonly layers: readonly LayerDef[];
}

const defaultHidden: Partial<Record<BuiltinModelSpec['kind'], readonly number[]>> = {
  mlp: [128],
  '2nn': [200, 200],
};

/**
 * The layers of the model a spec describes. Throws UnsupportedError for shapes a kind cannot
 * take. A `keras` model has no layers here (tfjs builds it from its topology, see
 * {@link kerasGraph}); only its input size.
 */
export function architecture(spec: ModelSpec): Architecture {
  const inputSize = spec.inputShape.reduce((a, b) => a * b, 1);
  if (spec.kind === 'keras') return { inputSize, layers: [] };
  if (spec.hidden !== undefined && defaultHidden[spec.kind] === undefined) {
    throw new UnsupportedError(`model '${spec.kind}' has no hidden layers to size; remove 'hidden' from its spec`);
  }
  switch (spec.kind) {
    case 'logreg':
      return { inputSize, layers: denseStack(inputSize, [], spec.numClasses) };
    case 'mlp':
    case '2nn':
      return { inputSize, layers: denseStack(inputSize, spec.hidden ?? defaultHidden[spec.kind]!, spec.numClasses) };
    case 'cnn':
      // The small CNN as PyTorch tutorials write it: an unpadded 3x3 conv (28 → 26 → pool 13).
      return convStack(spec, [{ size: 3, filters: 32, padding: 'valid' }], []);
    case 'mcmahan-cnn':
      // McMahan et al. 2017, "Communication-Efficient Learning of Deep Networks from Decentralized Data".
      return convStack(
        spec,
        [
          { size: 5, filters: 32, padding: 'same' },
          { size: 5, filters: 64, padding: 'same' },
        ],
        [512],
      );
  }
}

function denseStack(inputs: number, hidden: readonly number[], numClasses: number): LayerDef[] {
  const widths = [inputs, ...hidden, numClasses];
  return widths.slice(1).map((units, i) => ({
    kind: 'dense' as const,
    name: `dense_${i}`,
    inputs: widths[i]!,
    units,
    activation: i === widths.length - 2 ? ('linear' as const) : ('relu' as const),
  }));
}

interface ConvBlock {
  readonly size: number;
  readonly filters: number;
  readonly padding: 'same' | 'valid';
}

function convStack(spec: BuiltinModelSpec, blocks: readonly ConvBlock[], hidden: readonly number[]): Architecture {
  const imageShape = toImageShape(spec.inputShape);
  let [h, w, c] = imageShape;
  const layers: LayerDef[] = [];
  blocks.forEach((b, i) => {
    layers.push({ kind: 'conv', name: `conv_${i}`, size: b.size, inChannels: c, filters: b.filters, padding: b.padding, activation: 'relu' });
    if (b.padding === 'valid') {
      h -= b.size - 1;
      w -= b.size - 1;
    }
    // 2x2 max pooling, stride 2, unpadded: odd sizes round down, as in tfjs and PyTorch.
    layers.push({ kind: 'maxpool', size: 2 });
    h = Math.floor(h / 2);
    w = Math.floor(w / 2);
    c = b.filters;
    if (h < 1 || w < 1) {
      throw new UnsupportedError(`model '${spec.kind}' needs larger images than ${spec.inputShape.join('x')}`);
    }
  });
  layers.push({ kind: 'flatten' });
  const dense = denseStack(h * w * c, hidden, spec.numClasses);
  return { inputSize: imageShape[0] * imageShape[1] * imageShape[2], imageShape, layers: [...layers, ...dense] };
}

/** [h, w, c] for a conv model's input: [h, w, c] as is, [h, w] as one channel, [n²] as an n×n image. */
function toImageShape(inputShape: readonly number[]): [number, number, number] {
  const [a, b, c] = inputShape;
  if (c !== undefined) return [a!, b!, c];
  if (b !== undefined) return [a!, b, 1];
  const side = Math.round(Math.sqrt(a!));
  if (side * side !== a) {
    throw new UnsupportedError(`a convolutional model needs an image input shape like [28, 28, 1]; [${a}] is not a square image`);
  }
  return [side, side, 1];
}

/** The parameters of one layer, in the order they appear in the flat vector: kernel, then bias. */
export function layerParams(layer: LayerDef): ParamShape[] {
  switch (layer.kind) {
    case 'dense':
      return [
        { name: `${layer.name}/kernel`, shape: [layer.inputs, layer.units] },
        { name: `${layer.name}/bias`, shape: [layer.units] },
      ];
    case 'conv':
      return [
        { name: `${layer.name}/kernel`, shape: [layer.size, layer.size, layer.inChannels, layer.filters] },
        { name: `${layer.name}/bias`, shape: [layer.filters] },
      ];
    default:
      return [];
  }
}

/**
 * The stable flat layout of a model's parameters: each tensor in forward order, kernel before
 * bias, row-major. Kernels are [in, out] for dense layers and [h, w, in, out] for conv layers.
 */
export function paramLayout(spec: ModelSpec): ParamShape[] {
  if (spec.kind === 'keras') return kerasGraph(spec).weights.map(({ name, shape }) => ({ name, shape }));
  return architecture(spec).layers.flatMap(layerParams);
}

// Analysing a topology walks every layer; parameter blobs are sized from it on every encode
// and decode, so the result is kept per topology object.
const graphs = new WeakMap<object, KerasGraph>();

/**
 * The checked graph of a `keras` model (its weights are the parameter layout: layer by layer
 * in forward order, each layer's weights in Keras order). Throws BadInputError naming the
 * layer when the topology is not allowed or does not fit the spec's input and classes.
 */
export function kerasGraph(spec: Extract<ModelSpec, { kind: 'keras' }>): KerasGraph {
  let g = graphs.get(spec.topology);
  if (g === undefined) {
    g = analyzeKeras(spec.topology, spec);
    graphs.set(spec.topology, g);
  }
  return g;
}

/** Number of float32 parameters of a model. */
export function paramCount(spec: ModelSpec): number {
  return paramLayout(spec).reduce((n, p) => n + shapeSize(p.shape), 0);
}

/** Number of elements of a tensor shape. */
export function shapeSize(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
