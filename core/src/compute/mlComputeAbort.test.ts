import { afterEach, describe, expect, it } from 'vitest';
import { encodeDataChunk } from '../ml/dataChunk.js';
import { loadMnist } from '../ml/data/loadMnist.js';
import type { ModelSpec, TrainSpec } from '../spec/ml.js';
import { AbortedError } from '../util/errors.js';
import type { ComputeBackend, TrainProgress } from './computeBackend.js';
import { mlCompute } from './mlCompute.js';

// Aborting a training on a compute thread: the thread stops after the batch it is in. Real
// threads, real training on the 8,000 embedded MNIST training digits. Times are compared with
// the batch time measured in the same run, never with a fixed wall-clock figure.

const model: ModelSpec = { kind: 'mlp', inputShape: [28, 28, 1], numClasses: 10 };
// 16 batches of 500 per epoch, so the backend reports every batch; 1,000 epochs would take minutes.
const long: TrainSpec = { optimizer: { kind: 'sgd', lr: 0.05, momentum: 0 }, epochs: 1000, batchSize: 500, mu: 0, seed: 0 };

/** A training started with progress timestamps, and the longest time one batch took in it. */
function startTraining(compute: ComputeBackend, global: Uint8Array, signal: AbortSignal) {
  const notes: { at: number; p: TrainProgress }[] = [];
  const task = compute.train({ key: 'digits', model, train: long, global, seed: 1 }, { signal, onProgress: (p) => notes.push({ at: performance.now(), p }) });
  const settled = task.then(
    () => ({ at: performance.now(), err: undefined as unknown }),
    (err: unknown) => ({ at: performance.now(), err }),
  );
  const batchMs = () => {
    let worst = 0;
    for (let i = 1; i < notes.length; i++) {
      const batches = (notes[i]!.p.epoch - notes[i - 1]!.p.epoch) * notes[i]!.p.batches + notes[i]!.p.batch - notes[i - 1]!.p.batch;
      worst = Math.max(worst, (notes[i]!.at - notes[i - 1]!.at) / batches);
    }
    return worst;
  };
  const untilNotes = async (n: number) => {
    while (notes.length < n) await new Promise((r) => setTimeout(r, 5));
  };
  return { notes, settled, batchMs, untilNotes };
}

describe('aborting compute on threads', () => {
  let compute: ComputeBackend | undefined;
  afterEach(async () => {
    await compute?.stop();
    compute = undefined;
  });

  it('an aborted training rejects at once and frees its thread within one batch; a training queued behind it never runs', async () => {
    compute = mlCompute({ threads: 1, backend: 'wasm' });
    const data = await loadMnist({ seed: 1 });
    expect((await compute.loadData({ key: 'digits', source: { kind: 'chunk', bytes: encodeDataChunk(data) }, owner: { member: 'm', trainSeed: 0 } })).train).toBe(8000);
    const global = await compute.initParams({ model, seed: 7 });
    // What a small task costs on this thread when it is free: the last part of the bound.
    let t = performance.now();
    await compute.initParams({ model, seed: 8 });
    const smallTaskMs = performance.now() - t;

    const first = new AbortController();
    const running = startTraining(compute, global, first.signal);
    const queued = startTraining(compute, global, first.signal);
    await running.untilNotes(12);
    const batchMs = running.batchMs();
    t = performance.now();
    first.abort();
    // The thread has a single queue: this answers only once the aborted training gave it back.
    // Without the abort this would wait for 1,000 epochs; give up well before the test's timeout.
    await Promise.race([compute.initParams({ model, seed: 9 }), new Promise((r) => setTimeout(r, 50 * batchMs))]);
    const freedMs = performance.now() - t;
    const rejected = await running.settled;

    expect(rejected.err).toBeInstanceOf(AbortedError);
    expect(rejected.at - t, 'the task rejects without waiting for the thread').toBeLessThan(batchMs);
    expect((await queued.settled).err).toBeInstanceOf(AbortedError);
    expect(queued.notes, 'the queued training reported progress, so it ran').toEqual([]);
    const doneBatches = running.notes.length;
    // One batch to finish the one under way, then the small task; one more batch of slack for a loaded machine.
    expect(freedMs, `freed after ${freedMs.toFixed(0)} ms; a batch takes ${batchMs.toFixed(1)} ms, a small task ${smallTaskMs.toFixed(1)} ms`).toBeLessThan(2 * batchMs + smallTaskMs + 20);
    await new Promise((r) => setTimeout(r, 4 * batchMs));
    expect(running.notes.length, 'no progress after the abort').toBe(doneBatches);
    // The thread still trains: the data stayed loaded, and a fresh training runs to the end.
    const one = await compute.train({ key: 'digits', model, train: { ...long, epochs: 1 }, global, seed: 1 }, {});
    expect(one.samples).toBe(8000);
  }, 120_000);

  it('an aborted aggregation rejects and keeps no server-optimiser state', async () => {
    compute = mlCompute({ threads: 1, backend: 'wasm' });
    const base = await compute.initParams({ model, seed: 7 });
    const inputs = [1, 2, 3].map((s) => ({ memberId: `m${s}`, weight: 1, params: base }));
    const ac = new AbortController();
    ac.abort();
    await expect(compute.aggregate({ stateKey: 'job', model, aggregator: { kind: 'fedavgm', serverLr: 1, momentum: 0.9 }, base, inputs }, { signal: ac.signal })).rejects.toBeInstanceOf(AbortedError);
    const a = await compute.aggregate({ stateKey: 'job', model, aggregator: { kind: 'fedavgm', serverLr: 1, momentum: 0.9 }, base, inputs });
    const b = await compute.aggregate({ stateKey: 'fresh', model, aggregator: { kind: 'fedavgm', serverLr: 1, momentum: 0.9 }, base, inputs });
    expect(Buffer.from(a).equals(Buffer.from(b)), 'the first aggregation under "job" started from no state, as under a fresh key').toBe(true);
  }, 60_000);
});
