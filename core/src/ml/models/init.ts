import { Rng } from '../../util/rng.js';
import type { ModelSpec } from '../../spec/ml.js';
import { architecture, layerParams, shapeSize } from '../layout.js';

/**
 * A model's initial flat parameters: Glorot-uniform kernels, zero biases, in `paramLayout`
 * order. Drawn from our seeded Rng (tfjs initialisers are unseeded), one forked stream per
 * tensor, so the same seed gives bit-identical parameters on every machine and backend.
 */
export function initialParams(spec: ModelSpec, seed: number): Float32Array {
  const layers = architecture(spec).layers;
  const shapes = layers.flatMap(layerParams);
  const out = new Float32Array(shapes.reduce((n, p) => n + shapeSize(p.shape), 0));
  const root = Rng.fromSeed(seed);
  let offset = 0;
  for (const { name, shape } of shapes) {
    const size = shapeSize(shape);
    if (name.endsWith('/kernel')) {
      const limit = Math.sqrt(6 / glorotFans(shape));
      const rng = root.fork(name);
      for (let i = 0; i < size; i++) out[offset + i] = (rng.float() * 2 - 1) * limit;
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
