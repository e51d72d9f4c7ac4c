import { createAggregator, type ServerState } from '../ml/aggregate/index.js';
import {
  SYNTHETIC_DEFAULTS,
  SYNTHETIC_HETEROGENEITY,
  decodeSyntheticParams,
  encodeSyntheticParams,
  syntheticBlobSize,
  syntheticEvaluate,
  syntheticInit,
  syntheticTrain,
  syntheticTrainLoss,
  type SyntheticSpec,
} from '../ml/synthetic.js';
import type { TrainSpec } from '../spec/ml.js';
import { AbortedError, BadInputError, throwIfAborted } from '../util/errors.js';
import type { ComputeBackend } from './computeBackend.js';

// Synthetic compute for runs where the protocol, not learning, is under test: the same pure
// arithmetic the simulator uses (ml/synthetic.ts) and the same deterministic aggregators,
// so a synthetic job gives the same bytes, and the same final hash, on real peers as in the
// simulator. A member's "data" is derived from its member id and the job's training seed.

/** Options of {@link syntheticCompute}; defaults are the simulator's. */
export interface SyntheticComputeInit {
  /** Parameters per vector (P). */
  readonly params?: number;
  /** Fraction of the way to its optimum a client moves per epoch. */
  readonly learnRate?: number;
  /** Samples every client reports (the aggregation weights). */
  readonly samplesPerClient?: number;
  /** Milliseconds each training task takes (a stand-in for real work; default 0). */
  readonly trainMs?: number;
}

/** A compute backend of deterministic, cheap arithmetic on P-float parameter vectors. */
export function syntheticCompute(init: SyntheticComputeInit = {}): ComputeBackend {
  const params = init.params ?? SYNTHETIC_DEFAULTS.params;
  const learnRate = init.learnRate ?? SYNTHETIC_DEFAULTS.learnRate;
  const samples = init.samplesPerClient ?? SYNTHETIC_DEFAULTS.samplesPerClient;
  const test = Math.max(1, Math.ceil(samples / 4));
  const owners = new Map<string, { member: string; trainSeed: number }>();
  const serverStates = new Map<string, ServerState | undefined>();
  const ownerOf = (key: string) => {
    const o = owners.get(key);
    if (!o) throw new BadInputError(`no data loaded under "${key}"`);
    return o;
  };
  const spec = (train: Pick<TrainSpec, 'epochs' | 'seed'>): SyntheticSpec => ({ params, learnRate, epochs: train.epochs, heterogeneity: SYNTHETIC_HETEROGENEITY, seed: train.seed });
  return {
    kind: 'synthetic',
    loadData: async ({ key, owner }, opts) => {
      throwIfAborted(opts?.signal, 'loading data');
      owners.set(key, owner);
      return { train: samples, test };
    },
    initParams: async ({ seed }) => encodeSyntheticParams(syntheticInit(params, seed)),
    train: async ({ key, train, global }, opts) => {
      const { member } = ownerOf(key);
      if (init.trainMs) await abortableDelay(init.trainMs, opts?.signal);
      throwIfAborted(opts?.signal, 'local training');
      const s = spec(train);
      const g = decodeSyntheticParams(global);
      const stats = syntheticTrainLoss(syntheticEvaluate(g, s).loss, s);
      return { params: encodeSyntheticParams(syntheticTrain(g, member, s)), samples, loss: stats.loss, accuracy: stats.accuracy };
    },
    evaluate: async ({ key, params: bytes }, opts) => {
      throwIfAborted(opts?.signal, 'evaluation');
      const { trainSeed } = ownerOf(key);
      return { ...syntheticEvaluate(decodeSyntheticParams(bytes), { params, seed: trainSeed }), samples: test };
    },
    aggregate: async ({ stateKey, aggregator, base, inputs }, opts) => {
      throwIfAborted(opts?.signal, 'aggregation');
      const global = decodeSyntheticParams(base);
      const serverState = serverStates.get(stateKey);
      const agg = createAggregator(aggregator, { global, ...(serverState ? { serverState } : {}) });
      // Inputs come sorted by member id (step 7), as the simulator adds them.
      for (const input of inputs) {
        const slot = agg.allocate();
        slot.set(decodeSyntheticParams(input.params));
        agg.add({ memberId: input.memberId, params: slot, weight: input.weight });
      }
      const r = agg.finish();
      serverStates.set(stateKey, r.serverState);
      return encodeSyntheticParams(r.params);
    },
    // Synthetic data needs no bytes; a chunk only says which shard it is, as a real one would.
    prepareChunks: async ({ shards }) =>
      Array.from({ length: shards }, (_, shard) => ({ bytes: new TextEncoder().encode(JSON.stringify({ synthetic: 1, shard })), train: samples, test })),
    paramsLimit: () => syntheticBlobSize(params) + 1024,
    stop: async () => undefined,
  };
}

// A training task's stand-in duration, cut short when the task is aborted.
function abortableDelay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (signal?.aborted) return Promise.reject(new AbortedError('local training'));
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AbortedError('local training'));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
