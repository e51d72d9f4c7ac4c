import type { AggregatorSpec, BuiltinModelKind, DatasetSpec, ModelSpec, PartitionSpec, TrainSpec } from '../spec/ml.js';
import { analyzeKeras } from '../spec/keras/topology.js';
import type { DataSplit, EvalResult } from './types.js';
import { initBackend, type BackendInfo, type BackendPreference } from './backend.js';
import { createModel, getParams, setParams, initialParams } from './models.js';
import { evaluate, trainLocal } from './train.js';
import { aggregate, type RejectedInput, type ServerState } from './aggregate/index.js';
import { loadDataset } from './data/index.js';
import { partition, subset } from './data/index.js';
import { Rng } from '../util/rng.js';
import { ParameterError, throwIfAborted, UnsupportedError } from '../util/errors.js';
import { MAX_THREADS } from './fast/plan.js';
import { addGaussianNoise, clipToNorm } from './clipAndNoise.js';

/** Settings of an in-process FedAvg run. */
export interface BaselineOptions {
  readonly dataset: DatasetSpec;
  /** A built-in kind, or a Keras topology (the modelTopology of a model.json) sized to the data. */
  readonly model: BuiltinModelKind | { readonly topology: Record<string, unknown> };
  readonly clients: number;
  readonly partition: PartitionSpec;
  readonly rounds: number;
  readonly train: TrainSpec;
  readonly aggregator: AggregatorSpec;
  /** Fraction of clients sampled per round (at least one). */
  readonly clientFraction: number;
  readonly seed: number;
  readonly backend?: BackendPreference;
  /** Stop early once test accuracy reaches this. */
  readonly targetAccuracy?: number;
  /**
   * Client-level DP-FedAvg (McMahan et al. 2018) instead of plain averaging: each sampled
   * client's update (its parameters minus the global ones) is clipped to L2 norm `clip`, the
   * clipped updates are summed, Gaussian noise of standard deviation `noiseMultiplier * clip`
   * (seeded by `seed`) is added, and the sum divided by the number sampled moves the global
   * model. Needs the fedavg aggregator. The ε it spends is the accountant's business.
   */
  readonly dp?: { readonly clip: number; readonly noiseMultiplier: number };
  /**
   * Threads that split each local batch on the fast training path (default 1; see
   * trainLocal). Equal seeds and equal thread counts give bit-identical runs; another thread
   * count sums in another order, so its results differ by rounding.
   */
  readonly threads?: number;
}

/** One round of a baseline run. */
export interface BaselineRound {
  readonly round: number;
  readonly accuracy: number;
  readonly loss: number;
  readonly trainLoss: number;
  readonly participants: number;
  /** Clients whose parameters the aggregator left out (NaN/Infinity after training); empty normally. */
  readonly rejected: readonly RejectedInput[];
  readonly samples: number;
  readonly wallSeconds: number;
  /** Under `dp`: the fraction of this round's updates that clipping shortened. */
  readonly clippedFraction?: number;
}

/** The outcome of a baseline run; `params` are the final global parameters. */
export interface BaselineResult {
  readonly rounds: number;
  readonly accuracy: number;
  readonly loss: number;
  readonly wallSeconds: number;
  readonly backend: BackendInfo;
  readonly model: ModelSpec;
  readonly history: readonly BaselineRound[];
  readonly params: Float32Array;
  readonly dataset: { readonly name: string; readonly train: number; readonly test: number };
}

/** Progress inside a round: which client is training. */
export interface BaselineProgress {
  readonly round: number;
  readonly clientIndex: number;
  readonly clientsThisRound: number;
}

/** Callbacks and cancellation for {@link runFedAvgBaseline}. */
export interface BaselineHooks {
  readonly signal?: AbortSignal;
  readonly onData?: (data: DataSplit, backend: BackendInfo) => void;
  readonly onProgress?: (p: BaselineProgress) => void;
  readonly onRound?: (r: BaselineRound) => void;
}

/**
 * Federated averaging in one process with no network: the plain reference every protocol
 * run is compared against. Clients train one after another on their partition, the server
 * aggregates their parameters (sorted by client id, as workers do) and evaluates the global
 * model on the whole test split after every round.
 */
export async function runFedAvgBaseline(opts: BaselineOptions, hooks: BaselineHooks = {}): Promise<BaselineResult> {
  const started = performance.now();
  const threads = opts.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1 || threads > MAX_THREADS) throw new ParameterError(`threads must be a whole number from 1 to ${MAX_THREADS}, not ${threads}`);
  const backend = await initBackend(opts.backend ?? 'auto');
  const data = await loadDataset(opts.dataset, { seed: opts.seed });
  hooks.onData?.(data, backend);
  throwIfAborted(hooks.signal, 'FedAvg run');
  if (opts.dp && opts.aggregator.kind !== 'fedavg') throw new UnsupportedError(`differential privacy runs DP-FedAvg: it needs the fedavg aggregator, not ${opts.aggregator.kind}`);

  const spec = modelSpecFor(opts.model, data);
  const parts = partition(data.train.labels, data.train.numClasses, opts.clients, opts.partition, opts.seed);
  const clientData = parts.map((idx) => subset(data.train, idx));
  const clientIds = clientData.map((_, i) => `client-${String(i).padStart(5, '0')}`);

  const model = createModel(spec, opts.seed);
  let global = initialParams(spec, opts.seed);
  let serverState: ServerState | undefined;
  const rng = Rng.fromSeed(opts.seed).fork('client-sampling');
  const noiseRng = Rng.fromSeed(opts.seed).fork('dp-noise');
  const history: BaselineRound[] = [];
  let last: EvalResult = { loss: Number.NaN, accuracy: 0, samples: 0 };
  try {
    for (let round = 1; round <= opts.rounds; round++) {
      const roundStart = performance.now();
      const k = Math.max(1, Math.round(opts.clientFraction * opts.clients));
      const chosen = rng.sample(opts.clients, k).sort((a, b) => a - b);
      const inputs = [];
      let trainLoss = 0;
      let samples = 0;
      for (const [i, c] of chosen.entries()) {
        throwIfAborted(hooks.signal, 'FedAvg run');
        hooks.onProgress?.({ round, clientIndex: i, clientsThisRound: chosen.length });
        setParams(model, global);
        // Each client shuffles with its own seed per round, as a real client would.
        const trainSpec = { ...opts.train, seed: opts.train.seed + round * 100_003 + c };
        const result = await trainLocal(model, clientData[c]!, trainSpec, {
          globalParams: opts.train.mu > 0 ? global : undefined,
          signal: hooks.signal,
          threads,
        });
        trainLoss += result.loss * result.samples;
        samples += result.samples;
        inputs.push({ memberId: clientIds[c]!, params: getParams(model), weight: clientData[c]!.count });
      }
      let rejected: readonly RejectedInput[] = [];
      let clippedFraction: number | undefined;
      if (opts.dp) {
        const dp = privateAverage(global, inputs.map((x) => x.params), opts.dp.clip, opts.dp.noiseMultiplier, () => noiseRng.normal());
        global = dp.params;
        clippedFraction = dp.clippedFraction;
      } else {
        const out = aggregate(opts.aggregator, inputs, { global, serverState });
        global = out.params;
        serverState = out.serverState;
        rejected = out.rejected;
      }
      setParams(model, global);
      last = await evaluate(model, data.test, { signal: hooks.signal });
      const report: BaselineRound = {
        round,
        accuracy: last.accuracy,
        loss: last.loss,
        trainLoss: samples > 0 ? trainLoss / samples : Number.NaN,
        participants: chosen.length,
        rejected,
        samples,
        wallSeconds: (performance.now() - roundStart) / 1000,
        ...(clippedFraction === undefined ? {} : { clippedFraction }),
      };
      history.push(report);
      hooks.onRound?.(report);
      if (opts.targetAccuracy !== undefined && last.accuracy >= opts.targetAccuracy) break;
    }
  } finally {
    model.dispose();
  }
  return {
    rounds: history.length,
    accuracy: last.accuracy,
    loss: last.loss,
    wallSeconds: (performance.now() - started) / 1000,
    backend,
    model: spec,
    history,
    params: global,
    dataset: { name: data.name, train: data.train.count, test: data.test.count },
  };
}

/**
 * One DP-FedAvg step: global + (Σ clip(params_i − global) + N(0, (σC)²)) / m over the m
 * clients' parameters, with m fixed by the sample rather than by the weights, so one client
 * moves the sum by at most C whatever its data. A client whose parameters are not finite
 * contributes nothing but still counts in m.
 */
export function privateAverage(global: Float32Array, params: readonly Float32Array[], clip: number, noiseMultiplier: number, normal: () => number): { params: Float32Array; clippedFraction: number } {
  const sum = new Float64Array(global.length);
  const delta = new Float64Array(global.length);
  let clipped = 0;
  for (const p of params) {
    for (let j = 0; j < global.length; j++) delta[j] = p[j]! - global[j]!;
    if (!delta.every(Number.isFinite)) continue;
    if (clipToNorm(delta, clip).scale < 1) clipped++;
    for (let j = 0; j < global.length; j++) sum[j]! += delta[j]!;
  }
  addGaussianNoise(sum, noiseMultiplier * clip, normal);
  const out = new Float32Array(global.length);
  const m = Math.max(1, params.length);
  for (let j = 0; j < global.length; j++) out[j] = global[j]! + sum[j]! / m;
  return { params: out, clippedFraction: params.length > 0 ? clipped / params.length : 0 };
}

/**
 * The model spec of a given kind (or Keras topology) for a dataset's sample shape and classes.
 * Throws BadInputError naming the layer when a topology does not fit the data.
 */
export function modelSpecFor(model: BuiltinModelKind | { readonly topology: Record<string, unknown> }, data: DataSplit): ModelSpec {
  const fit = { inputShape: [...data.train.sampleShape], numClasses: data.train.numClasses };
  if (typeof model === 'string') return { kind: model, ...fit };
  analyzeKeras(model.topology, fit);
  return { kind: 'keras', ...fit, topology: model.topology };
}
