import { describe, expect, it } from 'vitest';
import { runFedAvgBaseline, type BaselineOptions } from './fedavgBaseline.js';
import { paramsHash } from './params.js';

// Real tfjs training (wasm backend) on the real embedded MNIST digits.
const base: BaselineOptions = {
  dataset: { kind: 'mnist', testFraction: 0.2 },
  model: 'mlp',
  clients: 4,
  partition: { kind: 'dirichlet', alpha: 0.5 },
  rounds: 2,
  train: { optimizer: { kind: 'sgd', lr: 0.05, momentum: 0 }, epochs: 1, batchSize: 32, mu: 0, seed: 3 },
  aggregator: { kind: 'fedavg' },
  clientFraction: 0.75,
  seed: 3,
};

describe('runFedAvgBaseline', () => {
  it('gives bit-identical parameters for the same seed, and different ones for another seed', async () => {
    const a = await runFedAvgBaseline(base);
    const b = await runFedAvgBaseline(base);
    expect(paramsHash(a.params)).toBe(paramsHash(b.params));
    expect(a.history.map((r) => r.accuracy)).toEqual(b.history.map((r) => r.accuracy));
    const c = await runFedAvgBaseline({ ...base, seed: 4, train: { ...base.train, seed: 4 } });
    expect(paramsHash(c.params)).not.toBe(paramsHash(a.params));
  });

  it('splits local batches over threads: equal seeds and thread counts give equal bits, and the curve stays the same', async () => {
    const small: BaselineOptions = { ...base, model: 'logreg', partition: { kind: 'iid' }, clientFraction: 1 };
    const one = await runFedAvgBaseline(small);
    const a = await runFedAvgBaseline({ ...small, threads: 2 });
    const b = await runFedAvgBaseline({ ...small, threads: 2 });
    expect(paramsHash(a.params)).toBe(paramsHash(b.params));
    // two lanes sum each batch's gradient in another order: the same run up to rounding
    expect(paramsHash(a.params)).not.toBe(paramsHash(one.params));
    a.history.forEach((r, i) => expect(Math.abs(r.accuracy - one.history[i]!.accuracy)).toBeLessThan(0.005));
    await expect(runFedAvgBaseline({ ...base, threads: 0 })).rejects.toThrow(/threads must be a whole number from 1 to 32, not 0/);
  });

  it('learns: accuracy after a few rounds is far above chance', async () => {
    const r = await runFedAvgBaseline({ ...base, partition: { kind: 'iid' }, clientFraction: 1, rounds: 3 });
    expect(r.history).toHaveLength(3);
    expect(r.history[0]!.participants).toBe(4);
    expect(r.history.map((h) => h.rejected)).toEqual([[], [], []]);
    expect(r.accuracy).toBeGreaterThan(0.8);
    expect(r.dataset).toEqual({ name: 'mnist', train: 8000, test: 2000 });
  });

  it('stops early at the target accuracy', async () => {
    const r = await runFedAvgBaseline({ ...base, partition: { kind: 'iid' }, rounds: 50, targetAccuracy: 0.5 });
    expect(r.rounds).toBeLessThan(50);
    expect(r.accuracy).toBeGreaterThanOrEqual(0.5);
  });

  it('honours an abort signal', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(runFedAvgBaseline(base, { signal: ac.signal })).rejects.toThrow(/aborted/);
  });
});

describe('runFedAvgBaseline with DP-FedAvg', () => {
  it('trains reproducibly, reports how many updates it clipped, and refuses an aggregator other than fedavg', async () => {
    const dp = { ...base, partition: { kind: 'iid' as const }, clientFraction: 1, rounds: 2, dp: { clip: 0.5, noiseMultiplier: 0.1 } };
    const a = await runFedAvgBaseline(dp);
    const b = await runFedAvgBaseline(dp);
    expect(paramsHash(a.params)).toBe(paramsHash(b.params));
    expect(a.history.every((r) => r.clippedFraction !== undefined && r.clippedFraction >= 0 && r.clippedFraction <= 1)).toBe(true);
    const plain = await runFedAvgBaseline({ ...dp, dp: undefined });
    expect(paramsHash(a.params)).not.toBe(paramsHash(plain.params));
    expect(a.accuracy).toBeGreaterThan(0.5);
    await expect(runFedAvgBaseline({ ...dp, aggregator: { kind: 'median' } })).rejects.toThrow(/needs the fedavg aggregator/);
  });
});
