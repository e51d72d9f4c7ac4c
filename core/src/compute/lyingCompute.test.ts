import { describe, expect, it } from 'vitest';
import { lyingCompute } from './lyingCompute.js';
import { syntheticCompute } from './syntheticCompute.js';
import type { AggregateInput } from './computeBackend.js';
import type { AggregatorSpec, ModelSpec, TrainSpec } from '../spec/ml.js';
import { sha256Hex } from '../util/hash.js';

const model: ModelSpec = { kind: 'logreg', inputShape: [784], numClasses: 10 };
const train: TrainSpec = { optimizer: { kind: 'sgd', lr: 0.1, momentum: 0 }, epochs: 1, batchSize: 32, mu: 0, seed: 5 };
const source = { kind: 'chunk' as const, bytes: new Uint8Array() };
// A stateful aggregator: a liar's honest server state must move as everyone else's does.
const fedadam: AggregatorSpec = { kind: 'fedadam', serverLr: 0.01, beta1: 0.9, beta2: 0.99, tau: 1e-3 };

async function submissions(global: Uint8Array, members: readonly string[]): Promise<AggregateInput[]> {
  const c = syntheticCompute({ params: 300 });
  const out: AggregateInput[] = [];
  for (const m of members) {
    await c.loadData({ key: `root/${m}`, source, owner: { member: m, trainSeed: train.seed } });
    const t = await c.train({ key: `root/${m}`, model, train, global, seed: 0 });
    out.push({ memberId: m, params: t.params, weight: t.samples });
  }
  return out;
}

describe('lyingCompute', () => {
  it('votes the aggregate without the last input, a well-formed but wrong one', async () => {
    const base = await syntheticCompute({ params: 300 }).initParams({ model, seed: 1 });
    const inputs = await submissions(base, ['c-0', 'c-1', 'c-2']);
    const honest = await syntheticCompute({ params: 300 }).aggregate({ stateKey: 'root/job', model, aggregator: { kind: 'fedavg' }, base, inputs });
    const lie = await lyingCompute(syntheticCompute({ params: 300 })).aggregate({ stateKey: 'root/job', model, aggregator: { kind: 'fedavg' }, base, inputs });
    const withoutLast = await syntheticCompute({ params: 300 }).aggregate({ stateKey: 'x/job', model, aggregator: { kind: 'fedavg' }, base, inputs: inputs.slice(0, -1) });
    expect(sha256Hex(lie)).not.toBe(sha256Hex(honest));
    expect(sha256Hex(lie)).toBe(sha256Hex(withoutLast));
  });

  it('votes the base when there is one input', async () => {
    const base = await syntheticCompute({ params: 300 }).initParams({ model, seed: 1 });
    const inputs = await submissions(base, ['c-0']);
    expect(sha256Hex(await lyingCompute(syntheticCompute({ params: 300 })).aggregate({ stateKey: 'root/job', model, aggregator: { kind: 'fedavg' }, base, inputs }))).toBe(sha256Hex(base));
  });

  it('keeps a stateful aggregator’s honest state in step: an honest backend over the same rounds agrees on the honest key', async () => {
    const base = await syntheticCompute({ params: 300 }).initParams({ model, seed: 1 });
    const inputs = await submissions(base, ['c-0', 'c-1', 'c-2']);
    const honest = syntheticCompute({ params: 300 });
    const liarInner = syntheticCompute({ params: 300 });
    const liar = lyingCompute(liarInner);
    for (let r = 0; r < 2; r++) {
      await honest.aggregate({ stateKey: 'root/job', model, aggregator: fedadam, base, inputs });
      await liar.aggregate({ stateKey: 'root/job', model, aggregator: fedadam, base, inputs });
    }
    // Round 3 on the honest key, straight on the liar's inner backend: the same bytes.
    const a = await honest.aggregate({ stateKey: 'root/job', model, aggregator: fedadam, base, inputs });
    const b = await liarInner.aggregate({ stateKey: 'root/job', model, aggregator: fedadam, base, inputs });
    expect(sha256Hex(b)).toBe(sha256Hex(a));
  });

  it('passes every other task through untouched', async () => {
    const inner = syntheticCompute({ params: 300 });
    const liar = lyingCompute(inner);
    expect(liar.kind).toBe(inner.kind);
    expect(sha256Hex(await liar.initParams({ model, seed: 3 }))).toBe(sha256Hex(await syntheticCompute({ params: 300 }).initParams({ model, seed: 3 })));
    expect(liar.paramsLimit(model)).toBe(inner.paramsLimit(model));
  });
});
