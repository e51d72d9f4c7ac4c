import { BadInputError } from '../../util/errors.js';
import { ConfigReader, LAYER_CLASSES, shapeLayer, type KerasLayerClass, type KerasWeight, type LayerArgs } from './layers.js';

// A Keras / tfjs Layers model topology (the `modelTopology` of a model.json) read as data:
// its format checked, every layer on the allow-list, shapes inferred from the input, weights
// listed in the order the parameter vector holds them. No code is run and nothing is
// deserialised by class name: an unknown class is an error, never a lookup.

/** Bounds on a model a job may carry; also listed with the manifest limits (docs/CLI.md). */
export const MODEL_LIMITS = {
  /** Parameters (float32 values) of the whole model. */
  maxParams: 20_000_000,
  /** Layers, the input included. */
  maxLayers: 256,
  /** Characters of the topology as JSON. */
  maxTopologyChars: 256 * 1024,
} as const;

/** One layer of an analysed topology, in forward (topological) order. */
export interface KerasNode {
  readonly name: string;
  readonly className: KerasLayerClass;
  /** Names of the layers whose outputs it takes, in order; empty for the input. */
  readonly inputs: readonly string[];
  readonly args: LayerArgs;
  /** Per sample, without the batch axis. */
  readonly outputShape: readonly number[];
  readonly weights: readonly KerasWeight[];
}

/** A checked topology: one input, one output of class scores. */
export interface KerasGraph {
  readonly layers: readonly KerasNode[];
  readonly inputName: string;
  readonly inputShape: readonly number[];
  readonly outputName: string;
  /** The output ends in softmax; Canopy trains on the scores before it (softmax cross-entropy). */
  readonly softmaxOutput: boolean;
  /** Every weight, layer by layer in forward order: the layout of the parameter vector. */
  readonly weights: readonly KerasWeight[];
  readonly paramCount: number;
  /** Multiply-accumulates of one forward pass per sample (kernels times output positions): a cost estimate. */
  readonly macs: number;
}

/** What the data gives the model: each sample's shape and the number of classes. */
export interface DataFit {
  readonly inputShape: readonly number[];
  readonly numClasses: number;
}

type Obj = Readonly<Record<string, unknown>>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const fail = (problem: string): never => {
  throw new BadInputError(`model topology: ${problem}`);
};

interface RawLayer {
  readonly name: string;
  readonly className: string;
  readonly config: Obj;
  /** Producers' names; undefined for a Sequential layer (it takes the previous one). */
  readonly inbound?: readonly string[];
}

/**
 * Checks a topology and infers its shapes. With `fit`, also checks that it takes samples of
 * the data's size and gives one score per class. Throws BadInputError with one line that
 * names the layer at fault.
 */
export function analyzeKeras(topology: unknown, fit?: DataFit): KerasGraph {
  const { className, config } = modelConfig(topology);
  const chars = JSON.stringify(topology).length;
  if (chars > MODEL_LIMITS.maxTopologyChars) fail(`${chars} characters of JSON, more than the limit of ${MODEL_LIMITS.maxTopologyChars}`);
  const { raws, inputName, inputShape, outputName } = className === 'Sequential' ? sequential(config) : functional(config);
  if (raws.length + 1 > MODEL_LIMITS.maxLayers) fail(`${raws.length + 1} layers, more than the limit of ${MODEL_LIMITS.maxLayers}`);

  const shapes = new Map<string, readonly number[]>([[inputName, inputShape]]);
  const layers: KerasNode[] = [{ name: inputName, className: 'InputLayer', inputs: [], args: { name: inputName }, outputShape: inputShape, weights: [] }];
  let previous = inputName;
  for (const raw of raws) {
    if (shapes.has(raw.name)) fail(`two layers are named '${raw.name}'`);
    const allowed = allowedClass(raw);
    const inputs = raw.inbound ?? [previous];
    const inShapes = inputs.map((n) => shapes.get(n) ?? fail(`layer '${raw.name}' (${raw.className}) takes the output of '${n}', which is not defined before it`));
    const reader = new ConfigReader(raw.name, raw.className, raw.config);
    const trainable = reader.bool('trainable', true);
    const { args, outputShape, weights } = shapeLayer(reader, allowed, inShapes, trainable);
    shapes.set(raw.name, outputShape);
    layers.push({ name: raw.name, className: allowed, inputs, args, outputShape, weights });
    previous = raw.name;
  }
  const output = layers.find((l) => l.name === outputName) ?? fail(`the output layer '${outputName}' is not defined`);
  const activation = output.args.activation;
  if (activation !== undefined && activation !== 'softmax' && activation !== 'linear') {
    fail(`output layer '${output.name}' ends in '${String(activation)}'; a classifier's output must be softmax or linear (logits)`);
  }
  if (output.outputShape.length !== 1) fail(`output layer '${output.name}' gives [${output.outputShape.join(', ')}] per sample; a classifier gives one score per class (add Flatten and Dense)`);
  const weights = layers.flatMap((l) => l.weights);
  const paramCount = weights.reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1), 0);
  if (paramCount > MODEL_LIMITS.maxParams) fail(`${paramCount} parameters, more than the limit of ${MODEL_LIMITS.maxParams}`);
  if (fit !== undefined) {
    const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
    if (size(inputShape) !== size(fit.inputShape)) {
      fail(`input layer '${inputName}' takes [${inputShape.join(', ')}] (${size(inputShape)} values) but the data's samples are [${fit.inputShape.join(', ')}] (${size(fit.inputShape)} values)`);
    }
    if (output.outputShape[0] !== fit.numClasses) fail(`output layer '${output.name}' gives ${output.outputShape[0]} scores but the data has ${fit.numClasses} classes`);
  }
  const macs = layers.reduce((n, l) => {
    const positions = l.outputShape.slice(0, -1).reduce((a, b) => a * b, 1);
    return n + l.weights.filter((w) => w.init === 'glorot').reduce((m, w) => m + w.shape.reduce((a, b) => a * b, 1) * positions, 0);
  }, 0);
  return { layers, inputName, inputShape, outputName, softmaxOutput: activation === 'softmax', weights, paramCount, macs };
}

/** The model config inside a topology, as model.toJSON() or tensorflowjs_converter writes it, or a whole model.json. */
function modelConfig(topology: unknown): { className: 'Sequential' | 'Functional'; config: unknown } {
  if (!isObj(topology)) return fail('must be a JSON object (the modelTopology of a model.json)');
  const root = isObj(topology.modelTopology) ? topology.modelTopology : topology;
  const model = isObj(root.model_config) ? root.model_config : root;
  const cls = model.class_name;
  if (cls === 'Sequential') return { className: 'Sequential', config: model.config };
  if (cls === 'Model' || cls === 'Functional') return { className: 'Functional', config: model.config };
  return fail(`class_name ${JSON.stringify(cls)} is not a Keras model (Sequential, Model or Functional)`);
}

interface Parsed {
  readonly raws: readonly RawLayer[];
  readonly inputName: string;
  readonly inputShape: readonly number[];
  readonly outputName: string;
}

function rawLayer(entry: unknown, index: number): RawLayer & { inboundNodes: unknown } {
  if (!isObj(entry) || typeof entry.class_name !== 'string' || !isObj(entry.config)) fail(`layer ${index} is not {class_name, config}`);
  const e = entry as Obj & { class_name: string; config: Obj };
  const name = e.name ?? e.config.name;
  if (typeof name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/.test(name)) fail(`layer ${index} (${e.class_name}) has no usable name (a letter or digit, then letters, digits, _ . -): ${JSON.stringify(name)}`);
  return { name: name as string, className: e.class_name, config: e.config, inboundNodes: e.inbound_nodes };
}

function batchShape(name: string, config: Obj): number[] | undefined {
  const batch = config.batch_input_shape ?? config.batch_shape ?? config.batchInputShape;
  const perSample = batch !== undefined ? (Array.isArray(batch) ? batch.slice(1) : batch) : config.input_shape;
  if (perSample === undefined || perSample === null) return undefined;
  if (!Array.isArray(perSample) || perSample.length < 1 || perSample.length > 3 || !perSample.every((d) => Number.isInteger(d) && d >= 1 && d <= 1 << 20)) {
    return fail(`input layer '${name}' must have a fixed shape of 1-3 positive sizes per sample, not ${JSON.stringify(perSample)}`);
  }
  return perSample as number[];
}

function sequential(config: unknown): Parsed {
  const list = Array.isArray(config) ? config : isObj(config) ? config.layers : undefined;
  if (!Array.isArray(list) || list.length === 0) return fail('a Sequential model needs a non-empty config.layers list');
  const entries = list.map(rawLayer);
  const first = entries[0]!;
  let inputName = `${first.name}_input`;
  const inputShape = batchShape(first.name, first.config);
  let rest = entries;
  if (first.className === 'InputLayer') {
    inputName = first.name;
    rest = entries.slice(1);
  }
  if (inputShape === undefined) return fail(`the first layer '${first.name}' does not say the input shape (batch_input_shape)`);
  if (rest.length === 0) return fail('the model has no layer after its input');
  return { raws: rest.map(({ name, className, config: c }) => ({ name, className, config: c })), inputName, inputShape, outputName: rest[rest.length - 1]!.name };
}

/** [name, 0, 0] triples of input_layers / output_layers; Keras 3 writes a bare triple for one tensor. */
function endpoints(v: unknown, what: string): string[] {
  const list = Array.isArray(v) && typeof v[0] === 'string' ? [v] : v;
  if (!Array.isArray(list) || !list.every((t) => Array.isArray(t) && typeof t[0] === 'string')) return fail(`config.${what} must list [layer, 0, 0] triples`);
  return list.map((t) => (t as string[])[0]!);
}

function functional(config: unknown): Parsed {
  if (!isObj(config) || !Array.isArray(config.layers)) return fail('a functional model needs config.layers');
  const inputs = endpoints(config.input_layers, 'input_layers');
  const outputs = endpoints(config.output_layers, 'output_layers');
  if (inputs.length !== 1) fail(`the model has ${inputs.length} inputs; Canopy trains models with one input`);
  if (outputs.length !== 1) fail(`the model has ${outputs.length} outputs; Canopy trains models with one output`);
  const entries = config.layers.map(rawLayer);
  const input = entries.find((e) => e.name === inputs[0]);
  if (input === undefined || input.className !== 'InputLayer') return fail(`input '${inputs[0]}' is not an InputLayer of the model`);
  const inputShape = batchShape(input.name, input.config) ?? fail(`input layer '${input.name}' has no batch_input_shape`);
  const raws = entries
    .filter((e) => e !== input)
    .map((e) => {
      if (e.className === 'InputLayer') fail(`layer '${e.name}' is a second InputLayer; Canopy trains models with one input`);
      return { name: e.name, className: e.className, config: e.config, inbound: inbound(e.name, e.className, e.inboundNodes) };
    });
  return { raws, inputName: input.name, inputShape, outputName: outputs[0]! };
}

/** The producers of a functional layer's one call, from Keras 2 / tfjs or Keras 3 inbound_nodes. */
function inbound(name: string, className: string, nodes: unknown): string[] {
  const at = `layer '${name}' (${className})`;
  if (!Array.isArray(nodes) || nodes.length === 0) return fail(`${at} has no inbound_nodes: it is not connected`);
  if (nodes.length > 1) return fail(`${at} is called ${nodes.length} times; shared layers are not supported`);
  const node = nodes[0];
  // Keras 2 and tfjs: [[producer, nodeIndex, tensorIndex, kwargs], ...]
  if (Array.isArray(node)) {
    return node.map((t) => (Array.isArray(t) && typeof t[0] === 'string' && t[1] === 0 && t[2] === 0 ? t[0] : fail(`${at} has an inbound node ${JSON.stringify(t)} that is not [layer, 0, 0]`)));
  }
  // Keras 3: {args: [tensor or [tensors]], kwargs}; a tensor is {class_name: '__keras_tensor__', config: {keras_history: [producer, 0, 0]}}
  if (isObj(node) && Array.isArray(node.args)) {
    const args = node.args.length === 1 && Array.isArray(node.args[0]) ? (node.args[0] as unknown[]) : node.args;
    return args.map((a) => {
      const h = isObj(a) && isObj(a.config) ? a.config.keras_history : undefined;
      return Array.isArray(h) && typeof h[0] === 'string' && h[1] === 0 && h[2] === 0 ? h[0] : fail(`${at} has an input ${JSON.stringify(a).slice(0, 80)} that is not a tensor of another layer`);
    });
  }
  return fail(`${at} has inbound_nodes in an unknown format`);
}

function allowedClass(raw: RawLayer): KerasLayerClass {
  const at = `layer '${raw.name}' (${raw.className})`;
  if (raw.className === 'Lambda' || raw.className === 'TFOpLambda' || raw.className === 'SlicingOpLambda') fail(`${at}: Lambda layers carry code and are never accepted`);
  if (raw.className === 'LSTM' || raw.className === 'GRU' || raw.className === 'SimpleRNN') fail(`${at}: recurrent layers are not supported yet`);
  if (!(LAYER_CLASSES as readonly string[]).includes(raw.className) || raw.className === 'InputLayer') {
    fail(`${at}: layer class '${raw.className}' is not allowed (custom layers carry code); allowed: ${LAYER_CLASSES.filter((c) => c !== 'InputLayer').join(', ')}`);
  }
  return raw.className as KerasLayerClass;
}
