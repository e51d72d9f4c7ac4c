import * as tf from '@tensorflow/tfjs';
import { ParameterError } from '../../util/errors.js';
import type { KerasGraph, KerasNode } from '../../spec/keras/topology.js';

// Builds a checked Keras topology as a tfjs LayersModel. Each allow-listed class maps to its
// tfjs-layers constructor here, with arguments already read and checked by the spec layer:
// nothing is deserialised by class name, so a topology cannot reach any other code.

/** A built topology: the tfjs model and its weights' variables in parameter-layout order. */
export interface BuiltKeras {
  readonly net: tf.LayersModel;
  readonly variables: tf.Variable[];
  /** The subset that gradients train (not BatchNormalization's moving statistics). */
  readonly trainable: tf.Variable[];
}

type Act = 'elu' | 'hardSigmoid' | 'linear' | 'relu' | 'relu6' | 'selu' | 'sigmoid' | 'softmax' | 'softplus' | 'softsign' | 'tanh' | 'swish' | 'gelu';

/** Builds `graph` in tfjs. When its output ends in softmax, the built model stops before it and gives logits. */
export function buildKeras(graph: KerasGraph): BuiltKeras {
  const tensors = new Map<string, tf.SymbolicTensor>();
  const input = tf.input({ shape: [...graph.inputShape], name: graph.inputName });
  tensors.set(graph.inputName, input);
  for (const node of graph.layers.slice(1)) {
    const logits = node.name === graph.outputName && graph.softmaxOutput;
    const layer = makeLayer(node, logits);
    const ins = node.inputs.map((n) => tensors.get(n)!);
    tensors.set(node.name, layer.apply(ins.length === 1 ? ins[0]! : ins) as tf.SymbolicTensor);
  }
  const net = tf.model({ inputs: input, outputs: tensors.get(graph.outputName)! });
  const variables: tf.Variable[] = [];
  const trainable: tf.Variable[] = [];
  for (const node of graph.layers) {
    if (node.weights.length === 0) continue;
    const built = net.getLayer(node.name).weights;
    node.weights.forEach((w, i) => {
      const lv = built[i];
      if (lv === undefined || lv.shape.join() !== w.shape.join()) {
        throw new ParameterError(`layer '${node.name}': tfjs built weight ${i} as [${lv?.shape.join(', ') ?? 'nothing'}], not [${w.shape.join(', ')}] (${w.name})`);
      }
      const v = lv.read() as tf.Variable;
      variables.push(v);
      if (lv.trainable) trainable.push(v);
    });
  }
  return { net, variables, trainable };
}

/** The arguments shapeLayer (spec/keras/layers.ts) reads for each class; each layer has its own subset. */
interface Args {
  readonly trainable: boolean;
  readonly activation: string;
  readonly units: number;
  readonly useBias: boolean;
  readonly filters: number;
  readonly kernelSize: [number, number];
  readonly strides: [number, number];
  readonly padding: 'valid' | 'same';
  readonly depthMultiplier: number;
  readonly poolSize: [number, number];
  readonly targetShape: number[];
  readonly rate: number;
  readonly center: boolean;
  readonly scale: boolean;
  readonly momentum: number;
  readonly epsilon: number;
  readonly axis: number;
  readonly inputDim: number;
  readonly outputDim: number;
}

function act(a: unknown): Act {
  return a === 'hard_sigmoid' ? 'hardSigmoid' : (a as Act);
}

function makeLayer(node: KerasNode, logits: boolean): tf.layers.Layer {
  const a = node.args as unknown as Args;
  const base = { name: node.name, trainable: a.trainable };
  const activation = logits ? 'linear' : act(a.activation);
  switch (node.className) {
    case 'Dense':
      return tf.layers.dense({ ...base, units: a.units, useBias: a.useBias, activation });
    case 'Conv2D':
      return tf.layers.conv2d({ ...base, filters: a.filters, kernelSize: a.kernelSize, strides: a.strides, padding: a.padding, useBias: a.useBias, activation });
    case 'DepthwiseConv2D':
      return tf.layers.depthwiseConv2d({ ...base, kernelSize: a.kernelSize, strides: a.strides, padding: a.padding, depthMultiplier: a.depthMultiplier, useBias: a.useBias, activation });
    case 'MaxPooling2D':
      return tf.layers.maxPooling2d({ ...base, poolSize: a.poolSize, strides: a.strides, padding: a.padding });
    case 'AveragePooling2D':
      return tf.layers.averagePooling2d({ ...base, poolSize: a.poolSize, strides: a.strides, padding: a.padding });
    case 'GlobalAveragePooling2D':
      return tf.layers.globalAveragePooling2d(base);
    case 'Flatten':
      return tf.layers.flatten(base);
    case 'Reshape':
      return tf.layers.reshape({ ...base, targetShape: a.targetShape });
    case 'Dropout':
      return tf.layers.dropout({ ...base, rate: a.rate });
    case 'BatchNormalization':
      return tf.layers.batchNormalization({ ...base, axis: -1, center: a.center, scale: a.scale, momentum: a.momentum, epsilon: a.epsilon });
    case 'Activation':
      return tf.layers.activation({ ...base, activation });
    case 'Add':
      return tf.layers.add(base);
    case 'Concatenate':
      return tf.layers.concatenate({ ...base, axis: a.axis });
    case 'Embedding':
      return tf.layers.embedding({ ...base, inputDim: a.inputDim, outputDim: a.outputDim });
    case 'InputLayer':
      throw new ParameterError(`layer '${node.name}': an InputLayer can only be the model input`);
  }
}
