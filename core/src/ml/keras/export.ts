import * as tf from '@tensorflow/tfjs';
import { architecture, paramLayout, shapeSize } from '../layout.js';
import { ParameterError } from '../../util/errors.js';
import type { ModelSpec } from '../../spec/ml.js';

// A trained model as a tfjs Layers model: the `model.json` (topology and weights manifest)
// and the weights' bytes that tf.loadLayersModel reads, and tensorflowjs_converter turns into
// Keras. Weights are named `<layer>/<weight>`, which is how tfjs and Keras match them.

/** What tfjs calls a model's artifacts, for one weights file. */
export interface LayersModelFiles {
  /** The model.json: format, generator, topology and weights manifest pointing at `weightsFile`. */
  readonly modelJson: {
    readonly format: 'layers-model';
    readonly generatedBy: string;
    readonly convertedBy: null;
    readonly modelTopology: Record<string, unknown>;
    readonly weightsManifest: { paths: string[]; weights: { name: string; shape: number[]; dtype: 'float32' }[] }[];
  };
  /** The weights, float32 little-endian, in the manifest's order. */
  readonly weights: Uint8Array;
}

/**
 * The tfjs Layers model of `spec` with parameters `params`. A `keras` model is its own
 * topology (softmax output kept); a built-in is written as the Sequential network it computes,
 * ending in softmax. Either way `predict` ranks classes as Canopy's evaluation does.
 */
export function exportLayersModel(spec: ModelSpec, params: Float32Array, weightsFile = 'weights.bin'): LayersModelFiles {
  const layout = paramLayout(spec);
  const count = layout.reduce((n, p) => n + shapeSize(p.shape), 0);
  if (params.length !== count) throw new ParameterError(`cannot export ${params.length} parameters for a '${spec.kind}' model, which has ${count}`);
  const modelTopology = spec.kind === 'keras' ? kerasTopology(spec.topology) : builtinTopology(spec);
  const weights = new Uint8Array(params.length * 4);
  const view = new DataView(weights.buffer);
  for (let i = 0; i < params.length; i++) view.setFloat32(4 * i, params[i]!, true);
  return {
    modelJson: {
      format: 'layers-model',
      generatedBy: `Canopy (TensorFlow.js tfjs-layers v${tf.version_layers})`,
      convertedBy: null,
      modelTopology,
      weightsManifest: [{ paths: [weightsFile], weights: layout.map((p) => ({ name: p.name, shape: [...p.shape], dtype: 'float32' as const })) }],
    },
    weights,
  };
}

/** The topology object tfjs loads: a whole model.json's `modelTopology`, else the topology itself. */
function kerasTopology(topology: Record<string, unknown>): Record<string, unknown> {
  const inner = topology.modelTopology;
  return typeof inner === 'object' && inner !== null ? (inner as Record<string, unknown>) : topology;
}

/** A built-in model as a tfjs Sequential topology whose layer names match its parameter names. */
function builtinTopology(spec: Exclude<ModelSpec, { kind: 'keras' }>): Record<string, unknown> {
  const arch = architecture(spec);
  const net = tf.sequential({ name: `canopy_${spec.kind.replace('-', '_')}` });
  const inputShape = [...spec.inputShape];
  const first = { inputShape };
  let started = false;
  const at = () => (started ? {} : ((started = true), first));
  if (arch.imageShape && arch.imageShape.join() !== inputShape.join()) net.add(tf.layers.reshape({ ...at(), name: 'image', targetShape: [...arch.imageShape] }));
  if (!arch.imageShape && inputShape.length > 1) net.add(tf.layers.flatten({ ...at(), name: 'flatten_input' }));
  let pools = 0;
  const last = arch.layers.length - 1;
  arch.layers.forEach((layer, i) => {
    switch (layer.kind) {
      case 'dense':
        net.add(tf.layers.dense({ ...at(), name: layer.name, units: layer.units, activation: i === last ? 'softmax' : layer.activation }));
        break;
      case 'conv':
        net.add(tf.layers.conv2d({ ...at(), name: layer.name, filters: layer.filters, kernelSize: layer.size, padding: layer.padding, activation: layer.activation }));
        break;
      case 'maxpool':
        net.add(tf.layers.maxPooling2d({ ...at(), name: `pool_${pools++}`, poolSize: 2, strides: 2 }));
        break;
      case 'flatten':
        net.add(tf.layers.flatten({ ...at(), name: 'flatten' }));
        break;
    }
  });
  try {
    return net.toJSON(null, false) as unknown as Record<string, unknown>;
  } finally {
    net.dispose();
  }
}
