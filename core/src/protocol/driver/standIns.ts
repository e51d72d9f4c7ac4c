import { hash32 } from '../../util/rng.js';
import { hashJson } from '../../util/hash.js';
import type { BlobRef } from '../messages/index.js';
import { jsonBlobRef } from '../machines/hostState.js';
import type { InputEntry } from '../machines/hostRound.js';

// Trivial stand-in arithmetic for the in-memory driver: "parameters" are a few numbers,
// "training" nudges them, "aggregation" is a weighted mean in client-id order. It is just
// enough for hashes to differ when inputs differ, and to agree when they are the same.

/** A stand-in parameter blob. `trainedFrom` lets the driver prove rounds are never mixed. */
export interface FakeParams {
  readonly kind: 'params';
  readonly values: readonly number[];
  readonly trainedFrom: string | null;
  readonly by: string;
  /** For an aggregate: the job that made it (a sub-job's local rounds chain through these). */
  readonly aggJob?: string;
  /** For a DP cluster's aggregate: the noise seed it was made with (§6.14), so workers agree only on the same seed. */
  readonly noise?: string;
}

/** Initial parameters (step 5). */
export function fakeInit(seed: number): FakeParams {
  return { kind: 'params', values: [0, 0, 0, seed % 7], trainedFrom: null, by: 'init' };
}

/** Local training: every value moves by about one, slightly differently per client and round. */
export function fakeTrain(global: FakeParams, globalHash: string, member: string, round: number): FakeParams {
  const values = global.values.map((v, i) => v + 1 + ((hash32(`${member}:${round}:${i}`) >>> 0) % 100) / 1000);
  return { kind: 'params', values, trainedFrom: globalHash, by: member };
}

/** Evaluation: accuracy rises and loss falls as the first value grows. */
export function fakeEvaluate(params: FakeParams, samples: number): { loss: number; accuracy: number; samples: number } {
  const x = Math.max(0, params.values[0] ?? 0);
  return { loss: 5 / (x + 5), accuracy: x / (x + 5), samples };
}

/** Weighted mean of the inputs, in the order given (sorted by client id). */
export function fakeAggregate(inputs: readonly { params: FakeParams; samples: number }[], job: string, lineage: string | null): FakeParams {
  const total = inputs.reduce((n, x) => n + x.samples, 0);
  const dim = inputs[0]?.params.values.length ?? 0;
  const values = Array.from({ length: dim }, (_, i) => inputs.reduce((acc, x) => acc + x.params.values[i]! * x.samples, 0) / total);
  return { kind: 'params', values, trainedFrom: lineage, by: 'aggregate', aggJob: job };
}

/** A lying worker's aggregate: wrong, but the same for every liar (the worst case: they collude). */
export function fakeLie(honest: FakeParams): FakeParams {
  return { ...honest, values: honest.values.map((v) => v + 0.5), by: 'liar' };
}

/** Samples a stand-in client holds. */
export function fakeSamples(member: string): number {
  return 10 + ((hash32(member) >>> 0) % 50);
}

/** A blob ref for a value, as the shell's blob store computes it. */
export function refOf(value: unknown): BlobRef {
  return jsonBlobRef(value);
}

/** Reads an inputs blob (written by the host in closeTraining). */
export function asInputs(value: unknown): InputEntry[] {
  return value as InputEntry[];
}

export { hashJson };
