import * as tf from '@tensorflow/tfjs';
import { ParameterError } from '../util/errors.js';
import { architecture, kerasGraph, paramLayout, shapeSize, type Architecture, type ParamShape } from './layout.js';
import { buildKeras } from './keras/build.js';
import { convPool } from './models/convPool.js';
import { conv2d, dense, maxPool2x2 } from './models/layers.js';
import { initialParams } from './models/init.js';
import type { ModelSpec } from '../spec/ml.js';

export { initialParams } from './models/init.js';

// tfjs registers variables globally by name, and optimisers key their state by that name, so
// every model's variables get a unique prefix.
let nextModelId = 0;

/**
 * A model built from a {@link ModelSpec}: one tfjs variable per entry of `paramLayout(spec)`,
 * in that order, and a forward pass over them. No tfjs-layers: training drives the variables
 * directly (see train.ts), which is several times faster than LayersModel.fit.
 */
export class Model {
  private disposed = false;

  private constructor(
    readonly spec: ModelSpec,
    readonly architecture: Architecture,
    readonly layout: readonly ParamShape[],
    /** Every parameter's variable, in layout order. */
    readonly variables: readonly tf.Variable[],
    /** The variables gradients train: all of them, but for a `keras` model's BatchNormalization moving statistics. */
    readonly trainable: readonly tf.Variable[] = variables,
    /** A `keras` model's tfjs network and its per-sample input shape. */
    private readonly net?: { readonly model: tf.LayersModel; readonly inputShape: readonly number[] },
  ) {}

  /** Builds a model with Glorot-uniform weights drawn from `seed` (see {@link initialParams}). */
  static create(spec: ModelSpec, seed: number): Model {
    const arch = architecture(spec);
    const layout = paramLayout(spec);
    const flat = initialParams(spec, seed);
    if (spec.kind === 'keras') {
      const graph = kerasGraph(spec);
      const built = buildKeras(graph);
      const model = new Model(spec, arch, layout, built.variables, built.trainable, { model: built.net, inputShape: graph.inputShape });
      setParams(model, flat);
      return model;
    }
    const id = nextModelId++;
    let offset = 0;
    const variables = layout.map(({ name, shape }) => {
      const size = shapeSize(shape);
      const v = tf.tidy(() => tf.variable(tf.tensor(flat.subarray(offset, offset + size), [...shape]), true, `canopy${id}/${name}`));
      offset += size;
      return v;
    });
    return new Model(spec, arch, layout, variables);
  }

  /** Number of parameters. */
  get size(): number {
    return this.layout.reduce((n, p) => n + shapeSize(p.shape), 0);
  }

  /**
   * Logits [n, numClasses] for a batch of n samples, given as [n, ...inputShape] or flat
   * [n, inputSize]. Differentiable w.r.t. the variables. `training` switches a `keras` model's
   * Dropout on and makes its BatchNormalization use (and update) batch statistics.
   */
  logits(x: tf.Tensor, training = false): tf.Tensor2D {
    if (this.disposed) throw new ParameterError('model was disposed');
    const n = x.shape[0]!;
    if (this.net !== undefined) return this.net.model.apply(tf.reshape(x, [n, ...this.net.inputShape]), { training }) as tf.Tensor2D;
    const arch = this.architecture;
    let h: tf.Tensor = arch.imageShape ? tf.reshape(x, [n, ...arch.imageShape]) : tf.reshape(x, [n, arch.inputSize]);
    let v = 0;
    const layers = arch.layers;
    for (let i = 0; i < layers.length; i++) {
      const layer = layers[i]!;
      // The first parametrised layer's input is data: its gradient is never needed.
      const inputGrad = v > 0;
      switch (layer.kind) {
        case 'dense':
          h = dense(h as tf.Tensor2D, this.variables[v] as tf.Variable<tf.Rank.R2>, this.variables[v + 1] as tf.Variable<tf.Rank.R1>, layer.activation, inputGrad);
          v += 2;
          break;
        case 'conv':
          // A conv and the pooling after it run as one op with a cheaper gradient.
          h = (layers[i + 1]?.kind === 'maxpool' ? convPool : conv2d)(
            h as tf.Tensor4D,
            this.variables[v] as tf.Variable<tf.Rank.R4>,
            this.variables[v + 1] as tf.Variable<tf.Rank.R1>,
            layer.padding,
            layer.activation,
            inputGrad,
          );
          if (layers[i + 1]?.kind === 'maxpool') i++;
          v += 2;
          break;
        case 'maxpool':
          h = maxPool2x2(h as tf.Tensor4D);
          break;
        case 'flatten':
          h = tf.reshape(h, [n, -1]);
          break;
      }
    }
    return h as tf.Tensor2D;
  }

  /** Frees the model's variables. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.net !== undefined) this.net.model.dispose();
    else for (const v of this.variables) v.dispose();
  }
}

/** Builds a model from its spec with deterministic initial weights. Same seed ⇒ bit-identical parameters. */
export function createModel(spec: ModelSpec, seed: number): Model {
  return Model.create(spec, seed);
}

/** The model's parameters as one flat float32 vector in `paramLayout` order (a fresh copy). */
export function getParams(model: Model): Float32Array {
  const out = new Float32Array(model.size);
  let offset = 0;
  for (const v of model.variables) {
    const data = v.dataSync() as Float32Array;
    out.set(data, offset);
    offset += data.length;
  }
  return out;
}

/** Overwrites the model's parameters from a flat vector in `paramLayout` order. Throws ParameterError on a wrong length. */
export function setParams(model: Model, flat: Float32Array): void {
  if (flat.length !== model.size) {
    throw new ParameterError(
      `parameter vector has ${flat.length} values but model '${model.spec.kind}' needs ${model.size}; it was made for another model`,
    );
  }
  let offset = 0;
  for (const v of model.variables) {
    const size = v.size;
    // slice(): the cpu backend keeps the array it is given, so the caller's vector must not alias it.
    tf.tidy(() => v.assign(tf.tensor(flat.slice(offset, offset + size), v.shape)));
    offset += size;
  }
}

