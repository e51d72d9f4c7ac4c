import { hash32 } from '../util/rng.js';

// Synthetic training (issue #5, "protocol-scale studies"): parameter vectors of P float32
// values and cheap deterministic arithmetic that still behaves like federated learning.
// Every client pulls the model toward its own optimum; the optima scatter around a global
// one, so FedAvg converges toward the global optimum as non-IID clients would. Everything
// here is a pure function of its arguments, with no I/O and no shell state, so the
// simulator and a libp2p node compute the same bytes and therefore the same hashes.

/** The knobs of synthetic training. */
export interface SyntheticSpec {
  /** P: parameters per vector. */
  readonly params: number;
  /** Fraction of the way to its optimum a client moves per epoch (0 < lr ≤ 1). */
  readonly learnRate: number;
  readonly epochs: number;
  /** Half-width of the uniform scatter of clients' optima around the global optimum. */
  readonly heterogeneity: number;
  /** The job's training seed: fixes the global optimum. */
  readonly seed: number;
}

/** Default scatter of client optima: enough that sampling fewer clients visibly costs accuracy. */
export const SYNTHETIC_HETEROGENEITY = 0.5;

/** Defaults every shell uses, so a synthetic job gives the same bytes in the simulator and on real peers. */
export const SYNTHETIC_DEFAULTS = { params: 1000, learnRate: 0.1, samplesPerClient: 600 } as const;

const MAGIC = 0x59534e43; // "CNSY" as a little-endian uint32
const VERSION = 1;
const HEADER_BYTES = 16;

/** Bytes of an encoded synthetic vector of `params` values. */
export function syntheticBlobSize(params: number): number {
  return HEADER_BYTES + 4 * params;
}

/** Encodes a synthetic vector: "CNSY", version, count, then little-endian float32 values. */
export function encodeSyntheticParams(values: Float32Array): Uint8Array {
  const out = new Uint8Array(syntheticBlobSize(values.length));
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, VERSION, true);
  view.setUint32(8, values.length, true);
  view.setUint32(12, 0, true);
  for (let i = 0; i < values.length; i++) view.setFloat32(HEADER_BYTES + 4 * i, values[i]!, true);
  return out;
}

/** Decodes what {@link encodeSyntheticParams} wrote; throws on anything else. */
export function decodeSyntheticParams(bytes: Uint8Array): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < HEADER_BYTES || view.getUint32(0, true) !== MAGIC || view.getUint32(4, true) !== VERSION) {
    throw new RangeError('not a synthetic parameter blob (bad magic or version)');
  }
  const n = view.getUint32(8, true);
  if (bytes.byteLength !== syntheticBlobSize(n)) throw new RangeError(`synthetic blob of ${n} values must be ${syntheticBlobSize(n)} bytes, found ${bytes.byteLength}`);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = view.getFloat32(HEADER_BYTES + 4 * i, true);
  return out;
}

// mulberry32: a tiny, fast, well-mixed 32-bit generator. Inlined in the hot loops below
// because a P = 10,000 update runs it 10,000 times per client per round.
function nextState(a: number): number {
  return (a + 0x6d2b79f5) | 0;
}
function output(a: number): number {
  let t = Math.imul(a ^ (a >>> 15), 1 | a);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

/** Fills `out` with uniform values in [lo, hi) from a seeded stream. */
function fillUniform(out: Float32Array, seed: number, lo: number, hi: number): void {
  let a = seed | 0;
  for (let i = 0; i < out.length; i++) {
    a = nextState(a);
    out[i] = lo + (hi - lo) * output(a);
  }
}

// The global optimum depends on (seed, P) only; runs reuse it every round, so keep a few.
const optima = new Map<string, Float32Array>();

/** The global optimum θ*: uniform in [-1, 1) per coordinate. Shared: do not write to it. */
export function syntheticOptimum(spec: Pick<SyntheticSpec, 'params' | 'seed'>): Float32Array {
  const key = `${spec.seed}:${spec.params}`;
  let v = optima.get(key);
  if (!v) {
    v = new Float32Array(spec.params);
    fillUniform(v, hash32(`optimum:${spec.seed}`), -1, 1);
    if (optima.size >= 8) optima.delete(optima.keys().next().value!);
    optima.set(key, v);
  }
  return v;
}

/** Initial parameters (protocol step 5): small uniform noise around zero, from `seed`. */
export function syntheticInit(params: number, seed: number): Float32Array {
  const out = new Float32Array(params);
  fillUniform(out, hash32(`init:${seed}`), -0.01, 0.01);
  return out;
}

/**
 * Local training of `member` from `global`, written into `out`: `epochs` steps of
 * x ← x + lr·(θ_c − x) toward the client's optimum θ_c = θ* + heterogeneity·U(-1, 1),
 * in closed form. θ_c depends on the member and the job seed only, like a client's data.
 */
export function syntheticTrainInto(out: Float32Array, global: Float32Array, member: string, spec: SyntheticSpec): void {
  if (global.length !== spec.params || out.length !== spec.params) {
    throw new RangeError(`synthetic training expects ${spec.params} parameters, got ${global.length} in and ${out.length} out`);
  }
  const target = syntheticOptimum(spec);
  const rho = Math.pow(1 - spec.learnRate, spec.epochs);
  const h = spec.heterogeneity;
  let a = hash32(`client:${spec.seed}:${member}`);
  for (let i = 0; i < out.length; i++) {
    a = nextState(a);
    const opt = target[i]! + h * (2 * output(a) - 1);
    out[i] = opt + rho * (global[i]! - opt);
  }
}

/** {@link syntheticTrainInto} into a fresh vector. */
export function syntheticTrain(global: Float32Array, member: string, spec: SyntheticSpec): Float32Array {
  const out = new Float32Array(spec.params);
  syntheticTrainInto(out, global, member, spec);
  return out;
}

/** Accuracy from loss: 1 / (1 + 10·loss), so it rises from about 0.2 at the start toward 1. */
export function syntheticAccuracy(loss: number): number {
  return 1 / (1 + 10 * loss);
}

/** Evaluation: loss is the mean squared distance to the global optimum. */
export function syntheticEvaluate(params: Float32Array, spec: Pick<SyntheticSpec, 'params' | 'seed'>): { loss: number; accuracy: number } {
  const target = syntheticOptimum(spec);
  let sum = 0;
  for (let i = 0; i < params.length; i++) {
    const d = params[i]! - target[i]!;
    sum += d * d;
  }
  const loss = sum / Math.max(1, params.length);
  return { loss, accuracy: syntheticAccuracy(loss) };
}

/**
 * The training loss a client reports, from the global model's evaluation loss: its expected
 * distance to the client's own optimum after training. O(1), so a client need not scan P.
 */
export function syntheticTrainLoss(evalLoss: number, spec: SyntheticSpec): { loss: number; accuracy: number } {
  const rho = Math.pow(1 - spec.learnRate, spec.epochs);
  const loss = rho * rho * (evalLoss + (spec.heterogeneity * spec.heterogeneity) / 3);
  return { loss, accuracy: syntheticAccuracy(loss) };
}

/** How a lying worker corrupts an aggregate (the scenario's `faults.lie`). */
export type SyntheticLie = 'noise' | 'zeros' | 'sign-flip';

/**
 * A lying worker's aggregate, in place: N(0, 1) noise per coordinate (seeded by the worker
 * and round, so two liars do not collude), all zeros, or negated.
 */
export function applyLie(values: Float32Array, kind: SyntheticLie, worker: string, round: number): void {
  if (kind === 'zeros') {
    values.fill(0);
    return;
  }
  if (kind === 'sign-flip') {
    for (let i = 0; i < values.length; i++) values[i] = -values[i]!;
    return;
  }
  let a = hash32(`lie:${worker}:${round}`);
  for (let i = 0; i < values.length; i++) {
    a = nextState(a);
    const u = Math.max(output(a), 1e-12);
    a = nextState(a);
    values[i] = values[i]! + Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * output(a));
  }
}
