import { Rng } from '../../util/rng.js';
import type { ModelSpec } from '../../spec/ml.js';
import { architecture, kerasGraph, layerParams, shapeSize } from '../layout.js';
import type { WeightInit } from '../../spec/keras/layers.js';

/**
 * A model's initial flat parameters: Glorot-uniform kernels, zero biases, in `paramLayout`
 * order (a `keras` model: BatchNormalization's gamma and moving variance ones, embeddings
 * uniform in ±0.05, whatever initialisers its topology names). Drawn from our seeded Rng (tfjs initialisers are unseeded), one forked stream per
 * tensor, so the same seed gives bit-identical parameters on every machine and backend.
 */
export function initialParams(spec: ModelSpec, seed: number): Float32Array {
  const shapes: { name: string; shape: readonly number[]; init?: WeightInit }[] =
    spec.kind === 'keras' ? [...kerasGraph(spec).weights] : architecture(spec).layers.flatMap(layerParams);
  const out = new Float32Array(shapes.reduce((n, p) => n + shapeSize(p.shape), 0));
  const root = Rng.fromSeed(seed);
  let offset = 0;
  for (const { name, shape, ...rest } of shapes) {
    const size = shapeSize(shape);
    const init = rest.init ?? (name.endsWith('/kernel') ? 'glorot' : 'zeros');
    if (init === 'glorot' || init === 'embedding') {
      // Keras's embeddings start uniform in ±0.05.
      const limit = init === 'glorot' ? Math.sqrt(6 / glorotFans(shape)) : 0.05;
      const rng = root.fork(name);
      for (let i = 0; i < size; i++) out[offset + i] = (rng.float() * 2 - 1) * limit;
    } else if (init === 'ones') {
      out.fill(1, offset, offset + size);
    }
    offset += size;
  }
  return out;
}

/** fanIn + fanOut as Keras counts them: a conv kernel [h, w, in, out] has h·w·in inputs and h·w·out outputs. */
function glorotFans(shape: readonly number[]): number {
  const receptive = shape.slice(0, -2).reduce((a, b) => a * b, 1);
  const fanIn = shape[shape.length - 2]! * receptive;
  const fanOut = shape[shape.length - 1]! * receptive;
  return fanIn + fanOut;
}
