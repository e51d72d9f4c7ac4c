import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ComputePool } from './computePool.js';
import { aggregate, decodeParams, encodeDataChunk, encodeParams, loadMnist, paramsHash, splitForMembers, type ModelSpec, type TrainSpec } from '../ml/index.js';
import { sha256Hex } from '../util/hash.js';

// Real threads, real tfjs (wasm) training on the real embedded MNIST digits.
const model: ModelSpec = { kind: 'mlp', inputShape: [28, 28, 1], numClasses: 10 };
const train: TrainSpec = { optimizer: { kind: 'sgd', lr: 0.05, momentum: 0 }, epochs: 1, batchSize: 32, mu: 0, seed: 0 };

describe('ComputePool (ML tasks on worker threads)', () => {
  let pool: ComputePool;
  let chunks: Map<string, Uint8Array>;
  beforeAll(async () => {
    pool = ComputePool.start({ size: 2 });
    const parts = splitForMembers(await loadMnist({ seed: 1 }), ['alice', 'bob'], { kind: 'iid' }, 1);
    chunks = new Map([...parts].map(([m, split]) => [m, encodeDataChunk(split)]));
  });
  afterAll(async () => {
    await pool.stop();
  });

  it('loads data, trains, evaluates and aggregates, bit-identically on any thread', async () => {
    for (const m of ['alice', 'bob']) {
      // the same member's data on both threads, to compare them
      for (const t of [0, 1]) {
        const info = await pool.run('loadData', { key: m, source: { kind: 'chunk', bytes: chunks.get(m)!.slice() } }, { affinity: `${m}@${t}` });
        expect(info.train).toBe(4000);
      }
    }
    const { params: global } = await pool.run('initParams', { model, seed: 7 });
    const trained = await Promise.all(
      ['alice', 'bob'].flatMap((m) => [0, 1].map((t) => pool.run('train', { key: m, model, train, global: global.slice(), seed: 11 }, { affinity: `${m}@${t}` }))),
    );
    // alice on thread A == alice on thread B, bit for bit
    expect(sha256Hex(trained[0]!.params)).toBe(sha256Hex(trained[1]!.params));
    expect(sha256Hex(trained[2]!.params)).toBe(sha256Hex(trained[3]!.params));
    expect(sha256Hex(trained[0]!.params)).not.toBe(sha256Hex(trained[2]!.params));
    expect(trained[0]!.samples).toBe(4000);

    const inputs = [
      { memberId: 'alice', params: trained[0]!.params, weight: 4000 },
      { memberId: 'bob', params: trained[2]!.params, weight: 4000 },
    ];
    const agg = await pool.run('aggregate', { stateKey: 'job', model, aggregator: { kind: 'fedavg' }, base: global.slice(), inputs: inputs.map((i) => ({ ...i, params: i.params.slice() })) });
    expect(agg.inputs).toBe(2);
    // the same arithmetic in this thread gives the same bits
    const local = aggregate({ kind: 'fedavg' }, inputs.map((i) => ({ ...i, params: decodeParams(i.params, model).params })), { global: decodeParams(global, model).params });
    expect(paramsHash(decodeParams(agg.params, model).params)).toBe(paramsHash(local.params));
    expect(agg.rejected).toEqual([]);

    // A member whose parameters hold NaN is left out, and the task says so.
    const poisoned = decodeParams(trained[0]!.params, model).params.slice();
    poisoned[123] = Number.NaN;
    const withBad = await pool.run('aggregate', {
      stateKey: 'job-bad',
      model,
      aggregator: { kind: 'fedavg' },
      base: global.slice(),
      inputs: [...inputs, { memberId: 'carol', params: encodeParams(model, poisoned), weight: 4000 }].map((i) => ({ ...i, params: i.params.slice() })),
    });
    expect(withBad.rejected).toEqual([{ memberId: 'carol', reason: 'non-finite' }]);
    expect(withBad.inputs).toBe(2);
    expect(sha256Hex(withBad.params)).toBe(sha256Hex(agg.params));

    const ev = await pool.run('evaluate', { key: 'alice', model, params: agg.params }, { affinity: 'alice@0' });
    expect(ev.samples).toBe(1000);
    expect(ev.accuracy).toBeGreaterThan(0.7);
  });

  it('refuses training on data it was never given, with a clear error', async () => {
    const { params } = await pool.run('initParams', { model, seed: 1 });
    await expect(pool.run('train', { key: 'nobody', model, train, global: params, seed: 1 })).rejects.toThrow(/no data loaded under "nobody"/);
  });

  it('refuses parameters for another model', async () => {
    await pool.run('loadData', { key: 'alice', source: { kind: 'chunk', bytes: chunks.get('alice')!.slice() } }, { affinity: 'x' });
    const { params } = await pool.run('initParams', { model: { ...model, kind: 'logreg' }, seed: 1 });
    await expect(pool.run('train', { key: 'alice', model, train, global: params, seed: 1 }, { affinity: 'x' })).rejects.toThrow(/spec|model|length|size/i);
  });
});
