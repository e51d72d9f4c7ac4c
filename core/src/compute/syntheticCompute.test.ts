import { describe, expect, it } from 'vitest';
import { syntheticCompute } from './syntheticCompute.js';
import { aggregate } from '../ml/aggregate/index.js';
import { SYNTHETIC_HETEROGENEITY, decodeSyntheticParams, encodeSyntheticParams, syntheticInit, syntheticTrain } from '../ml/synthetic.js';
import type { ModelSpec, TrainSpec } from '../spec/ml.js';
import { sha256Hex } from '../util/hash.js';

const model: ModelSpec = { kind: 'logreg', inputShape: [784], numClasses: 10 };
const train: TrainSpec = { optimizer: { kind: 'sgd', lr: 0.1, momentum: 0 }, epochs: 2, batchSize: 32, mu: 0, seed: 5 };
const source = { kind: 'chunk' as const, bytes: new Uint8Array() };

// One round among three clients on a backend, as the runtime drives it.
async function round(members: string[], global: Uint8Array) {
  const c = syntheticCompute({ params: 500 });
  const trained = [];
  for (const m of members) {
    await c.loadData({ key: `job/${m}`, source, owner: { member: m, trainSeed: train.seed } });
    trained.push({ memberId: m, ...(await c.train({ key: `job/${m}`, model, train, global, seed: 0 })) });
  }
  const agg = await c.aggregate({ stateKey: 'job', model, aggregator: { kind: 'fedavg' }, base: global, inputs: trained.map((t) => ({ memberId: t.memberId, params: t.params, weight: t.samples })) });
  return { c, trained, agg };
}

describe('syntheticCompute', () => {
  const members = ['c-0', 'c-1', 'c-2'];

  it('is the shared synthetic arithmetic and aggregator, bit for bit, on any node', async () => {
    const init = await syntheticCompute({ params: 500 }).initParams({ model, seed: train.seed });
    expect(sha256Hex(init)).toBe(sha256Hex(encodeSyntheticParams(syntheticInit(500, train.seed))));
    const a = await round(members, init);
    const b = await round(members, init);
    expect(sha256Hex(a.agg)).toBe(sha256Hex(b.agg));
    const spec = { params: 500, learnRate: 0.1, epochs: 2, heterogeneity: SYNTHETIC_HETEROGENEITY, seed: train.seed };
    const g = decodeSyntheticParams(init);
    const expected = aggregate({ kind: 'fedavg' }, members.map((m) => ({ memberId: m, params: syntheticTrain(g, m, spec), weight: 600 })), { global: g });
    expect(sha256Hex(a.agg)).toBe(sha256Hex(encodeSyntheticParams(expected.params)));
  });

  it('learns: the aggregate is closer to the optimum than the initial model', async () => {
    const init = await syntheticCompute({ params: 500 }).initParams({ model, seed: train.seed });
    const { c, agg } = await round(members, init);
    const before = await c.evaluate({ key: 'job/c-0', model, params: init });
    const after = await c.evaluate({ key: 'job/c-0', model, params: agg });
    expect(after.loss).toBeLessThan(before.loss);
    expect(after.accuracy).toBeGreaterThan(before.accuracy);
  });

  it('refuses work on a key it holds no data for, and bytes that are not synthetic parameters', async () => {
    const c = syntheticCompute({ params: 500 });
    const init = await c.initParams({ model, seed: 1 });
    await expect(c.train({ key: 'nobody', model, train, global: init, seed: 0 })).rejects.toThrow(/no data loaded under "nobody"/);
    await c.loadData({ key: 'k', source, owner: { member: 'm', trainSeed: 1 } });
    await expect(c.evaluate({ key: 'k', model, params: new Uint8Array(40) })).rejects.toThrow();
  });
});
