import { ParameterError } from '../../util/errors.js';
import { dequantise, quantisationScale, quantise } from './ring.js';

// FedAvg under secure aggregation: the workers may see only a sum, so each client sends its
// update pre-weighted, w·x, with its weight w appended as one more element; the sum's last
// element is then Σw and the average is Σ(w·x) / Σw. The ring's range must hold the largest
// possible sum, so the scale comes from bounds all parties know before the round: the number
// of clients, the largest weight and the largest |x|.

/** The bounds a round's fixed point is derived from. */
export interface WeightedBounds {
  /** clients that may take part */
  readonly clients: number;
  /** the largest weight (sample count) a client may claim */
  readonly maxWeight: number;
  /** the largest |value| of an update's coordinate */
  readonly maxAbs: number;
}

/** The fixed-point scale for these bounds: a sum of `clients` terms w·x and of their weights stays in the ring. */
export function weightedScale(b: WeightedBounds): number {
  if (!(b.clients >= 1 && b.maxWeight > 0 && b.maxAbs > 0)) throw new ParameterError(`weighted secure aggregation needs positive bounds, got ${JSON.stringify(b)}`);
  return quantisationScale(b.clients * b.maxWeight * Math.max(b.maxAbs, 1));
}

/** A client's input: round(w·x·scale) for each coordinate, then round(w·scale), in the ring. */
export function encodeWeightedUpdate(values: ArrayLike<number>, weight: number, b: WeightedBounds): Uint32Array {
  if (!(weight > 0 && weight <= b.maxWeight)) throw new ParameterError(`weight ${weight} is outside (0, ${b.maxWeight}]`);
  const scale = weightedScale(b);
  const out = new Uint32Array(values.length + 1);
  const weighted = new Float64Array(values.length + 1);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!(Math.abs(v) <= b.maxAbs)) throw new ParameterError(`value ${v} at index ${i} is outside [-${b.maxAbs}, ${b.maxAbs}]`);
    weighted[i] = weight * v;
  }
  weighted[values.length] = weight;
  return quantise(weighted, scale, b.maxWeight * Math.max(b.maxAbs, 1), out);
}

/** The weighted average Σ(w·x) / Σw from the unmasked ring sum of {@link encodeWeightedUpdate} inputs, and Σw. */
export function decodeWeightedSum(sum: Uint32Array, b: WeightedBounds): { average: Float32Array; totalWeight: number } {
  const real = dequantise(sum, weightedScale(b));
  const totalWeight = real[real.length - 1]!;
  if (!(totalWeight > 0)) throw new ParameterError(`the sum's total weight is ${totalWeight}: no client's update is in it`);
  const average = new Float32Array(real.length - 1);
  for (let i = 0; i < average.length; i++) average[i] = real[i]! / totalWeight;
  return { average, totalWeight };
}
