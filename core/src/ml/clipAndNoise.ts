import { ParameterError } from '../util/errors.js';

// Client-level DP-FedAvg (McMahan et al. 2018, "Learning Differentially Private Recurrent
// Language Models", Algorithm 1): each client's update (its parameters minus the round's global
// parameters) is clipped to L2 norm C, so one client moves the sum by at most C, and Gaussian
// noise of standard deviation σC is added to the sum. σ is the noise multiplier the accountant
// takes.

/** The update scaled to L2 norm at most `clip` (in place), with its norm before clipping. */
export function clipToNorm(update: Float32Array | Float64Array, clip: number): { norm: number; scale: number } {
  if (!(clip > 0) || !Number.isFinite(clip)) throw new ParameterError(`the clipping norm must be positive and finite, got ${clip}`);
  let sq = 0;
  for (let i = 0; i < update.length; i++) sq += update[i]! * update[i]!;
  const norm = Math.sqrt(sq);
  if (!Number.isFinite(norm)) throw new ParameterError('the update has a value that is not finite; it cannot be clipped');
  const scale = norm > clip ? clip / norm : 1;
  if (scale !== 1) for (let i = 0; i < update.length; i++) update[i]! *= scale;
  return { norm, scale };
}

/** A source of standard normal draws; `Rng.normal` from util/rng fits (seeded: reproducible). */
export type NormalSource = () => number;

/** Adds N(0, std²) to every coordinate, in place. */
export function addGaussianNoise(values: Float32Array | Float64Array, std: number, normal: NormalSource): void {
  if (!(std >= 0) || !Number.isFinite(std)) throw new ParameterError(`the noise standard deviation must be non-negative and finite, got ${std}`);
  if (std === 0) return;
  for (let i = 0; i < values.length; i++) values[i]! += std * normal();
}
