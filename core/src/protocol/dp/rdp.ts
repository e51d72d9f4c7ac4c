import { logComb, logErfc } from './special.js';

// The Rényi-DP accountant for the Poisson-sampled Gaussian mechanism, ported from Google's
// dp-accounting 0.6.0 (python/dp_accounting/rdp/rdp_privacy_accountant.py, Apache-2.0), itself
// after Mironov, Talwar and Zhang 2019 ("Rényi Differential Privacy of the Sampled Gaussian
// Mechanism", §3.3) for the RDP of one step, and Canonne, Kamath and Steinke 2020 (Prop. 12)
// for the conversion to (ε, δ). Function names follow the Python's, so the two can be read
// side by side; rdpAccountant.test.ts compares the figures with the package itself.

/** The orders dp-accounting's RdpAccountant uses by default. */
export const DEFAULT_RDP_ORDERS: readonly number[] = [...Array.from({ length: 99 }, (_, x) => 1 + (x + 1) / 10), ...Array.from({ length: 53 }, (_, i) => 11 + i), 128, 256, 512, 1024];

function logAdd(logx: number, logy: number): number {
  const a = Math.min(logx, logy);
  const b = Math.max(logx, logy);
  if (a === -Infinity) return b;
  return Math.log1p(Math.exp(a - b)) + b;
}

/** log(A_α) for integer α, 0 < q < 1 (dp-accounting's _compute_log_a_int). */
function computeLogAInt(q: number, sigma: number, alpha: number): number {
  let logA = -Infinity;
  const log1mq = Math.log1p(-q);
  for (let i = 0; i <= alpha; i++) {
    const logCoef = logComb(alpha, i) + i * Math.log(q) + (alpha - i) * log1mq;
    logA = logAdd(logA, logCoef + (i * i - i) / (2 * sigma * sigma));
  }
  return logA;
}

const MAX_STEPS_LOG_A_FRAC = 1000;

/** log(A_α) for fractional α, 0 < q < 1 (dp-accounting's _compute_log_a_frac); Infinity if it does not converge. */
function computeLogAFrac(q: number, sigma: number, alpha: number): number {
  let logA0 = -Infinity;
  let logA1 = -Infinity;
  const z0 = sigma * sigma * Math.log(1 / q - 1) + 0.5;
  const log1mq = Math.log1p(-q);
  let lastS0 = -Infinity;
  let lastS1 = -Infinity;
  for (let i = 0; i < MAX_STEPS_LOG_A_FRAC; i++) {
    const logCoef = logComb(alpha, i);
    const j = alpha - i;
    const logT0 = logCoef + i * Math.log(q) + j * log1mq;
    const logT1 = logCoef + j * Math.log(q) + i * log1mq;
    const logE0 = Math.log(0.5) + logErfc((i - z0) / (Math.SQRT2 * sigma));
    const logE1 = Math.log(0.5) + logErfc((z0 - j) / (Math.SQRT2 * sigma));
    const logS0 = logT0 + (i * i - i) / (2 * sigma * sigma) + logE0;
    const logS1 = logT1 + (j * j - j) / (2 * sigma * sigma) + logE1;
    logA0 = logAdd(logA0, logS0);
    logA1 = logAdd(logA1, logS1);
    const total = logAdd(logA0, logA1);
    // stop once both terms decrease and are negligible against the total
    if (logS0 < lastS0 && logS1 < lastS1 && Math.max(logS0, logS1) < total - 30) return total;
    lastS0 = logS0;
    lastS1 = logS1;
  }
  return Infinity;
}

/**
 * The RDP at each order of one step of the Gaussian mechanism with noise multiplier `sigma`
 * (noise standard deviation over L2 sensitivity) applied to a Poisson sample of rate `q`
 * (dp-accounting's _compute_rdp_poisson_subsampled_gaussian).
 */
export function rdpSampledGaussian(q: number, sigma: number, orders: readonly number[] = DEFAULT_RDP_ORDERS): number[] {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`the sampling rate must be in [0, 1], got ${q}`);
  if (!(sigma >= 0)) throw new RangeError(`the noise multiplier must be non-negative, got ${sigma}`);
  return orders.map((alpha) => {
    if (q === 0) return 0;
    if (!Number.isFinite(alpha) || sigma === 0) return Infinity;
    if (q === 1) return alpha / (2 * sigma * sigma);
    const logA = Number.isInteger(alpha) ? computeLogAInt(q, sigma, alpha) : computeLogAFrac(q, sigma, alpha);
    return logA / (alpha - 1);
  });
}

/**
 * The smallest ε, over the orders, for which RDP `rdp` implies (ε, δ)-DP, and the order that
 * gives it (dp-accounting's compute_epsilon).
 */
export function epsilonFromRdp(orders: readonly number[], rdp: readonly number[], delta: number): { epsilon: number; order: number } {
  if (!(delta >= 0)) throw new RangeError(`delta must be non-negative, got ${delta}`);
  if (orders.length !== rdp.length) throw new RangeError('orders and RDP values differ in length');
  if (delta === 0) return rdp.every((r) => r === 0) ? { epsilon: 0, order: 0 } : { epsilon: Infinity, order: 0 };
  let best = Infinity;
  let bestOrder = orders[0] ?? 0;
  orders.forEach((a, i) => {
    const r = rdp[i]!;
    if (a < 1) throw new RangeError(`a Rényi order must be at least 1, got ${a}`);
    let eps: number;
    if (r < 0) eps = 0;
    else if (delta * delta + Math.expm1(-r) > 0) eps = 0;
    else if (a > 1.01) eps = r + Math.log1p(-1 / a) - Math.log(delta * a) / (a - 1);
    else eps = Infinity;
    // numpy's argmin: the first of equal minima
    if (eps < best || (i === 0 && eps === Infinity)) {
      best = eps;
      bestOrder = a;
    }
  });
  return { epsilon: Math.max(0, best), order: bestOrder };
}

/**
 * A running RDP account of rounds of the sampled Gaussian mechanism: client-level DP-FedAvg
 * (McMahan et al. 2018) spends one step per round, at the round's sampling rate and noise
 * multiplier. Its state is the vector of RDP per order, so it can be checkpointed as numbers.
 */
export class RdpAccountant {
  private readonly rdp: number[];

  constructor(
    readonly orders: readonly number[] = DEFAULT_RDP_ORDERS,
    rdp?: readonly number[],
  ) {
    this.rdp = rdp ? [...rdp] : orders.map(() => 0);
    if (this.rdp.length !== orders.length) throw new RangeError('orders and RDP values differ in length');
  }

  /** Adds `steps` steps at sampling rate `q` and noise multiplier `sigma`. */
  compose(q: number, sigma: number, steps = 1): this {
    const step = rdpSampledGaussian(q, sigma, this.orders);
    for (let i = 0; i < step.length; i++) this.rdp[i]! += steps * step[i]!;
    return this;
  }

  /** ε for `delta` after everything composed so far. */
  epsilon(delta: number): number {
    return epsilonFromRdp(this.orders, this.rdp, delta).epsilon;
  }

  /** The RDP per order, for checkpoints. */
  state(): readonly number[] {
    return [...this.rdp];
  }
}

/**
 * The smallest noise multiplier (to within 1e-6 relative) for which `steps` rounds at sampling
 * rate `q` spend at most `epsilon` for `delta`: what a submitter asks for when the budget is
 * the given. Bisection over σ in [1e-3, 1e4], since ε falls as σ grows.
 */
export function calibrateNoiseMultiplier(epsilon: number, delta: number, q: number, steps: number, orders: readonly number[] = DEFAULT_RDP_ORDERS): number {
  if (!(epsilon > 0)) throw new RangeError(`the target ε must be positive, got ${epsilon}`);
  const spent = (sigma: number): number => new RdpAccountant(orders).compose(q, sigma, steps).epsilon(delta);
  let lo = 1e-3;
  let hi = 1e4;
  if (spent(hi) > epsilon) throw new RangeError(`no noise multiplier up to ${hi} keeps ε within ${epsilon} over ${steps} rounds at rate ${q}`);
  while ((hi - lo) / hi > 1e-6) {
    const mid = Math.sqrt(lo * hi);
    if (spent(mid) > epsilon) lo = mid;
    else hi = mid;
  }
  return hi;
}
