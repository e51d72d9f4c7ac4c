import { hash32 } from '../../../util/rng.js';
import { BadInputError } from '../../../util/errors.js';
import type { ComputeBackend } from './computeBackend.js';

// Stand-in arithmetic for runs where the protocol, not learning, is under test: parameters
// are a few numbers, training nudges them per member and round, evaluation turns the first
// value into an accuracy that rises with rounds, and aggregation is the weighted mean in
// the order given. Honest nodes agree bit for bit; different inputs give different bytes.

const DIM = 8;

interface SyntheticParams {
  readonly synthetic: 1;
  readonly values: number[];
}

/** Options of {@link syntheticCompute}. */
export interface SyntheticComputeInit {
  /** Milliseconds each training task takes (a stand-in for real work; default 0). */
  readonly trainMs?: number;
}

/** A compute backend of deterministic, cheap arithmetic on tiny parameter vectors. */
export function syntheticCompute(init: SyntheticComputeInit = {}): ComputeBackend {
  const data = new Map<string, { train: number; test: number; member: string }>();
  const dataFor = (key: string) => {
    const d = data.get(key);
    if (!d) throw new BadInputError(`no data loaded under "${key}"`);
    return d;
  };
  return {
    kind: 'synthetic',
    loadData: async (key, source) => {
      let member: string;
      if (source.kind === 'chunk') {
        const chunk = JSON.parse(new TextDecoder().decode(source.bytes)) as { synthetic?: number; shard?: number };
        if (chunk.synthetic !== 1 || typeof chunk.shard !== 'number') throw new BadInputError('not a synthetic data chunk');
        member = `shard-${chunk.shard}`;
      } else {
        member = `shard-${source.shard.index}`;
      }
      const train = samplesOf(member);
      const d = { train, test: Math.ceil(train / 4), member };
      data.set(key, d);
      return { train: d.train, test: d.test };
    },
    initParams: async (_model, seed) => encode({ synthetic: 1, values: [0, 0, 0, ...Array.from({ length: DIM - 3 }, (_, i) => ((seed + i) % 7) / 7)] }),
    train: async (key, _model, _train, global, seed) => {
      const d = dataFor(key);
      if (init.trainMs) await new Promise((r) => setTimeout(r, init.trainMs));
      const g = decode(global);
      const values = g.values.map((v, i) => v + 1 + ((hash32(`${d.member}:${seed}:${i}`) >>> 0) % 100) / 1000);
      return { params: encode({ synthetic: 1, values }), samples: d.train, loss: 0.5, accuracy: 0.5 };
    },
    evaluate: async (key, _model, params) => {
      const d = dataFor(key);
      const x = Math.max(0, decode(params).values[0] ?? 0);
      return { loss: 5 / (x + 5), accuracy: x / (x + 5), samples: d.test };
    },
    aggregate: async (_stateKey, _model, _aggregator, base, inputs) => {
      const total = inputs.reduce((n, x) => n + x.weight, 0);
      const decoded = inputs.map((x) => ({ p: decode(x.params), w: x.weight }));
      const dim = decode(base).values.length;
      const values = Array.from({ length: dim }, (_, i) => decoded.reduce((acc, x) => acc + (x.p.values[i] ?? 0) * x.w, 0) / total);
      return encode({ synthetic: 1, values });
    },
    prepareChunks: async (_dataset, _partition, _seed, shards) =>
      Array.from({ length: shards }, (_, shard) => {
        const train = samplesOf(`shard-${shard}`);
        return { bytes: new TextEncoder().encode(JSON.stringify({ synthetic: 1, shard })), train, test: Math.ceil(train / 4) };
      }),
    paramsLimit: () => 64 * 1024,
    stop: async () => undefined,
  };
}

function samplesOf(member: string): number {
  return 10 + ((hash32(member) >>> 0) % 50);
}

function encode(p: SyntheticParams): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(p));
}

function decode(bytes: Uint8Array): SyntheticParams {
  const p = JSON.parse(new TextDecoder().decode(bytes)) as SyntheticParams;
  if (p.synthetic !== 1 || !Array.isArray(p.values) || !p.values.every((v) => typeof v === 'number')) throw new BadInputError('not synthetic parameters');
  return p;
}
