import { afterEach, describe, expect, it } from 'vitest';
import { mlCompute } from '../../compute/mlCompute.js';
import type { ComputeBackend } from '../../compute/computeBackend.js';
import type { ModelSpec } from '../../spec/ml.js';
import { createLog } from '../../util/log.js';
import type { CanopyNode } from './canopyNode.js';
import { smallJob, testClusters } from './testing.js';

// A node that stops, or leaves a job, in the middle of a long local training: real runtime
// nodes over the memory transport, real training on compute threads on the embedded MNIST
// digits. Each bound is in batches, measured from the same training's progress.

const model: ModelSpec = { kind: 'mlp', inputShape: [28, 28, 1], numClasses: 10 };
// 4,000 digits per client in batches of 500: progress every batch; 1,000 epochs would take many minutes.
const longJob = (name: string) =>
  smallJob(name, { model, train: { optimizer: { kind: 'sgd', lr: 0.05 }, epochs: 1000, batchSize: 500 }, stop: { rounds: 1 } });

/** `node`'s training progress with timestamps, and the longest time one batch took so far. */
function watchTraining(node: CanopyNode) {
  const notes: { at: number; epoch: number; batch: number; batches: number }[] = [];
  node.events.on('train:progress', (d) => notes.push({ at: performance.now(), epoch: d.epoch, batch: d.batch, batches: d.batches }));
  return {
    notes,
    batchMs: () => {
      let worst = 0;
      for (let i = 1; i < notes.length; i++) {
        const a = notes[i - 1]!, b = notes[i]!;
        worst = Math.max(worst, (b.at - a.at) / ((b.epoch - a.epoch) * b.batches + b.batch - a.batch));
      }
      return worst;
    },
    until: async (n: number) => {
      while (notes.length < n) await new Promise((r) => setTimeout(r, 10));
    },
  };
}

describe('stopping during a long training', () => {
  const clusters = testClusters('abort');
  afterEach(() => clusters.stopAll());

  it('CanopyNode.stop() returns within one batch of the training under way, and the training stops', async () => {
    const cluster = await clusters.start(longJob('stop-train'), { node: { compute: 'ml', backend: 'wasm', consent: { kind: 'approve-all' }, log: createLog('node', 'silent') } });
    const alice = cluster.nodes.get('alice')!;
    const training = watchTraining(alice);
    await cluster.submit();
    await training.until(12);
    const batchMs = training.batchMs();
    let t = performance.now();
    await alice.stop();
    const stopMs = performance.now() - t;
    const seen = training.notes.length;
    // What stopping costs without a training (libp2p, the store, a compute thread that is
    // idle): the host, which has started its thread (initParams) and waits for the round.
    t = performance.now();
    await cluster.nodes.get('host')!.stop();
    const idleStopMs = performance.now() - t;
    expect(stopMs, `stop took ${stopMs.toFixed(0)} ms; a batch takes ${batchMs.toFixed(1)} ms, an idle node's stop ${idleStopMs.toFixed(0)} ms`).toBeLessThan(batchMs + idleStopMs + 20);
    await new Promise((r) => setTimeout(r, 4 * batchMs));
    expect(training.notes.length, 'no progress after stop').toBe(seen);
  }, 180_000);

  it('withdrawing from the job aborts its training: the compute thread is free again within one batch', async () => {
    let aliceCompute: ComputeBackend | undefined;
    const cluster = await clusters.start(longJob('withdraw-train'), {
      node: { compute: 'ml', backend: 'wasm', consent: { kind: 'approve-all' }, log: createLog('node', 'silent') },
      // Alice's backend is held here too, to send it a task of our own: one thread, one queue.
      perNode: (name): { compute?: ComputeBackend } => (name === 'alice' ? { compute: (aliceCompute = mlCompute({ threads: 1, backend: 'wasm' })) } : {}),
    });
    const alice = cluster.nodes.get('alice')!;
    const training = watchTraining(alice);
    const rootId = await cluster.submit();
    await training.until(12);
    // A small task's cost on a free thread, taken while the job's thread is busy on another
    // backend of the same size: the last part of the bound.
    const probe = mlCompute({ threads: 1, backend: 'wasm' });
    await probe.initParams({ model, seed: 1 });
    let t = performance.now();
    await probe.initParams({ model, seed: 2 });
    const smallTaskMs = performance.now() - t;
    await probe.stop();

    const batchMs = training.batchMs();
    t = performance.now();
    expect(alice.withdraw(rootId, 'withdraw-train', 'the owner revoked consent')).toBe(true);
    // Without the abort this would wait for 1,000 epochs; give up well before the test's timeout.
    await Promise.race([aliceCompute!.initParams({ model, seed: 3 }), new Promise((r) => setTimeout(r, 50 * batchMs))]);
    const freedMs = performance.now() - t;
    expect(freedMs, `freed after ${freedMs.toFixed(0)} ms; a batch takes ${batchMs.toFixed(1)} ms, a small task ${smallTaskMs.toFixed(1)} ms`).toBeLessThan(2 * batchMs + smallTaskMs + 20);
    const seen = training.notes.length;
    await new Promise((r) => setTimeout(r, 4 * batchMs));
    expect(training.notes.length, 'no progress after the withdrawal').toBe(seen);
  }, 180_000);
});
