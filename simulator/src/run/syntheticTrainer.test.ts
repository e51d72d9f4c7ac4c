import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AggregatorSpec } from '@canopy/core/ml';
import { encodeSyntheticParams, type SyntheticSpec } from '@canopy/core/ml';
import type { AggregateEffect, BlobRef, InputEntry } from '@canopy/core/protocol';
import { canonicalJson, sha256Text } from '@canopy/core/util';
import type { LieKind } from '../scenario/faults.js';
import type { ScenarioInput } from '../scenario/scenario.js';
import { BlobStore } from './blobStore.js';
import { simulate } from '../simulate/simulate.js';
import { SyntheticTrainer } from './syntheticTrainer.js';
import { smallScenario } from './testScenario.js';

// Aggregation in the main thread and on a real aggregation thread (the compiled script in
// simulator/dist: `npx tsc -b` first) must be indistinguishable but for wall time.

const threadCount = () => Number(/Threads:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]);

/** The run's rounds.jsonl records, wall time left out. */
async function roundsOf(training: ScenarioInput['training'], overrides: Partial<ScenarioInput>, job: Partial<ScenarioInput['job']>) {
  const out = join(mkdtempSync(join(tmpdir(), 'canopy-aggthread-')), 'run');
  const r = await simulate(smallScenario({ ...overrides, training }, job), { out });
  const records = readFileSync(join(out, 'rounds.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => ({ ...(JSON.parse(line) as Record<string, unknown>), wallSeconds: 0 }));
  return { records, finalHash: r.repetitions[0]!.finalHash, bytes: r.bytesSent, messages: r.messages };
}

describe('synthetic aggregation on a thread', () => {
  it.each([
    ['FedAvg', {}, {}],
    ['median with a sign-flipping liar per cluster', { faults: { lyingWorkersPerCluster: 1, lie: 'sign-flip' } }, { aggregator: { kind: 'median' } }],
    ['FedAvg with crashing clients', { faults: { clientCrashPerRound: 0.3 } }, { timing: { roundDeadlineSeconds: 30, quorum: 0.5 } }],
    ['FedAdam (stateful: stays inline)', {}, { aggregator: { kind: 'fedadam' } }],
  ] as const)('%s: the same records and final hash as inline', async (_name, overrides, job) => {
    const training = { mode: 'synthetic', params: 5000, samplesPerClient: 100, learnRate: 0.5 } as const;
    const inline = await roundsOf({ ...training, aggregateThreads: 0 }, overrides as Partial<ScenarioInput>, job as Partial<ScenarioInput['job']>);
    const threaded = await roundsOf({ ...training, aggregateThreads: 1 }, overrides as Partial<ScenarioInput>, job as Partial<ScenarioInput['job']>);
    expect(inline.records).toHaveLength(4);
    expect(inline.finalHash).toMatch(/^[0-9a-f]{64}$/);
    expect(threaded.records).toEqual(inline.records);
    expect(threaded.finalHash).toBe(inline.finalHash);
    expect([threaded.bytes, threaded.messages]).toEqual([inline.bytes, inline.messages]);
  });

  describe('one aggregation, inline and threaded', () => {
    const spec: SyntheticSpec = { params: 256, learnRate: 0.2, epochs: 1, heterogeneity: 0.5, seed: 4 };

    /** A store with a global and a round's inputs blob; `extra` entries follow the clients'. */
    function setup(extra: (store: BlobStore) => InputEntry[] = () => []) {
      const store = new BlobStore();
      const trainers = [0, 1].map((threads) => new SyntheticTrainer(store, { spec, samplesPerClient: 10, secondsPerSample: 0.001, aggregateThreads: threads }));
      const global = trainers[0]!.init('host', { type: 'initParams', job: 'j', model: { kind: 'logreg', inputShape: [4], numClasses: 2 }, seed: 1 });
      const train = { type: 'train', job: 'j', round: 1, global } as const;
      const entries: InputEntry[] = ['c1', 'c2', 'c3'].map((c) => ({ client: c, ref: trainers[0]!.train(c, 0, train as never).ref, samples: 10 }));
      entries.push(...extra(store));
      const text = canonicalJson(entries);
      const inputs: BlobRef = { hash: sha256Text(text), size: text.length };
      store.put(inputs, { kind: 'json', value: entries }, 'host');
      const effect = (aggregator: AggregatorSpec): AggregateEffect => ({ type: 'aggregate', job: 'j', round: 1, attempt: 1, inputs, base: global, aggregator, model: { kind: 'logreg', inputShape: [4], numClasses: 2 } });
      return { store, inline: trainers[0]!, threaded: trainers[1]!, effect, close: () => Promise.all(trainers.map((t) => t.close())) };
    }

    it.each([null, 'noise', 'sign-flip'] as const)('gives the same blob, lie %s', async (lie: LieKind | null) => {
      const { inline, threaded, effect, close } = setup();
      try {
        expect(threaded.aggregateThreads).toBe(1);
        const pending = threaded.aggregate('w1', effect({ kind: 'fedavg' }), lie);
        expect(pending).toBeInstanceOf(Promise);
        const ref = await pending;
        // The inline trainer has its own memo, so it computes anew: the same bytes, the same ref.
        expect(inline.aggregate('w1', effect({ kind: 'fedavg' }), lie)).toEqual(ref);
      } finally {
        await close();
      }
    });

    it.each([
      ['a missing input', () => [{ client: 'c9', ref: { hash: 'ab'.repeat(32), size: 1 }, samples: 10 }], /^input abababababab is not stored$/],
      ['an input that is JSON', (store: BlobStore) => {
        store.put({ hash: 'cd'.repeat(32), size: 2 }, { kind: 'json', value: [] }, 'x');
        return [{ client: 'c9', ref: { hash: 'cd'.repeat(32), size: 2 }, samples: 10 }];
      }, /^input cdcdcdcdcdcd is JSON, not parameters$/],
      ['corrupt parameter bytes', (store: BlobStore) => [{ client: 'c9', ref: store.putBytes(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17]), 'x'), samples: 10 }], /not a synthetic parameter blob/],
      ['parameters of another length', (store: BlobStore) => [{ client: 'c9', ref: store.putBytes(encodeSyntheticParams(new Float32Array(300)), 'x'), samples: 10 }], /out of bounds/],
    ] as const)('fails cleanly on %s, with the inline message', async (_name, extra, message) => {
      const { inline, threaded, effect, close } = setup(extra as (store: BlobStore) => InputEntry[]);
      try {
        let inlineError: unknown;
        try {
          inline.aggregate('w1', effect({ kind: 'fedavg' }), null);
        } catch (e) {
          inlineError = e;
        }
        expect((inlineError as Error).message).toMatch(message);
        const threadedError = await Promise.resolve(threaded.aggregate('w1', effect({ kind: 'fedavg' }), null)).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect((threadedError as Error).message).toBe((inlineError as Error).message);
        // Not remembered: the next worker tries again, and fails the same way.
        await expect(threaded.aggregate('w2', effect({ kind: 'fedavg' }), null)).rejects.toThrow(message);
      } finally {
        await close();
      }
    });

    it('close() stops the thread', async () => {
      const before = threadCount();
      const { threaded, close } = setup();
      expect(threaded.aggregateThreads).toBe(1);
      expect(threadCount()).toBe(before + 1);
      await close();
      expect(threadCount()).toBe(before);
    });
  });
});
