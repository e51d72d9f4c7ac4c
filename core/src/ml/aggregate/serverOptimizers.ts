import { ParameterError } from '../../util/errors.js';
import type { AggregatorSpec } from '../../spec/ml.js';
import { serverStateVectors, type ServerOptimizerKind, type ServerState } from './serverState.js';

/** The spec of a stateful server optimiser. */
export type ServerOptimizerSpec = Extract<AggregatorSpec, { kind: ServerOptimizerKind }>;

/** The new global parameters and the optimiser state to carry into the next round. */
export interface ServerUpdate {
  readonly params: Float32Array;
  readonly serverState: ServerState;
}

const fround = Math.fround;

/**
 * The state an optimiser starts from: zero momentum, and for the adaptive methods a second
 * moment of τ² (Reddi et al. 2021, Algorithm 2, which asks for v₋₁ ≥ τ²).
 */
export function initialServerState(spec: ServerOptimizerSpec, length: number): ServerState {
  const vectors = Array.from({ length: serverStateVectors[spec.kind] }, () => new Float32Array(length));
  if (spec.kind !== 'fedavgm') {
    const tau = fround(spec.tau);
    vectors[vectors.length - 1]!.fill(fround(tau * tau));
  }
  return { kind: spec.kind, step: 0, vectors };
}

/**
 * One server step from the global parameters `x` and the clients' weighted mean `avg`.
 * Every op is a binary32 op in the order written (arithmetic.ts); constants are rounded to
 * binary32 first. With Δ = avg − x:
 *
 * - fedavgm (Hsu et al. 2019): g = x − avg; u = μ·u + g; x' = x − η·u.
 * - fedadam, fedyogi, fedadagrad (Reddi et al. 2021, Algorithm 2):
 *   m = β1·m + (1−β1)·Δ (fedadagrad has no β1 in its spec, so β1 = 0 and m = Δ);
 *   fedadam v = β2·v + (1−β2)·Δ²; fedyogi v = v − (1−β2)·Δ²·sign(v − Δ²); fedadagrad v = v + Δ²;
 *   x' = x + η·m / (√v + τ).
 *
 * `state` is not modified. Throws ParameterError if a result is not finite.
 */
export function applyServerOptimizer(spec: ServerOptimizerSpec, x: Float32Array, avg: Float32Array, state: ServerState): ServerUpdate {
  const n = x.length;
  const out = new Float32Array(n);
  const eta = fround(spec.serverLr);
  let vectors: Float32Array[];
  if (spec.kind === 'fedavgm') {
    const mu = fround(spec.momentum);
    const u0 = state.vectors[0]!;
    const u = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const g = fround(x[i]! - avg[i]!);
      const ui = fround(fround(mu * u0[i]!) + g);
      u[i] = ui;
      out[i] = fround(x[i]! - fround(eta * ui));
    }
    vectors = [u];
  } else {
    const tau = fround(spec.tau);
    const hasMomentum = spec.kind !== 'fedadagrad';
    const b1 = spec.kind === 'fedadagrad' ? 0 : fround(spec.beta1);
    const c1 = spec.kind === 'fedadagrad' ? 1 : fround(1 - spec.beta1);
    const b2 = spec.kind === 'fedadagrad' ? 1 : fround(spec.beta2);
    const c2 = spec.kind === 'fedadagrad' ? 1 : fround(1 - spec.beta2);
    const m0 = hasMomentum ? state.vectors[0]! : undefined;
    const v0 = state.vectors[hasMomentum ? 1 : 0]!;
    const m = new Float32Array(n);
    const v = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const delta = fround(avg[i]! - x[i]!);
      const mi = m0 === undefined ? delta : fround(fround(b1 * m0[i]!) + fround(c1 * delta));
      const d2 = fround(delta * delta);
      const vp = v0[i]!;
      let vi: number;
      if (spec.kind === 'fedadam') {
        vi = fround(fround(b2 * vp) + fround(c2 * d2));
      } else if (spec.kind === 'fedyogi') {
        const s = fround(vp - d2);
        // multiplying by sign ∈ {−1, 0, 1} is exact, so it is written as a choice
        const t = fround(c2 * d2);
        vi = s > 0 ? fround(vp - t) : s < 0 ? fround(vp + t) : vp;
      } else {
        vi = fround(vp + d2);
      }
      m[i] = mi;
      v[i] = vi;
      out[i] = fround(x[i]! + fround(fround(eta * mi) / fround(fround(Math.sqrt(vi)) + tau)));
    }
    vectors = hasMomentum ? [m, v] : [v];
  }
  for (const arr of [out, ...vectors]) {
    for (let i = 0; i < n; i++) {
      const a = arr[i]!;
      if (a - a !== 0) throw new ParameterError(`${spec.kind} server update overflowed float32 at parameter ${i}; lower serverLr or check the inputs`);
    }
  }
  return { params: out, serverState: { kind: spec.kind, step: state.step + 1, vectors } };
}
