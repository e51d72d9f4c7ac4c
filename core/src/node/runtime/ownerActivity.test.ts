import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateManifest, type ManifestInput } from '../../protocol/manifest.js';
import { createLog } from '../../util/log.js';
import { startMemoryCluster, type MemoryCluster } from './memoryCluster.js';

// The "only while idle" limit on real nodes: a client whose owner is at the computer holds
// its training (CanopyNode.setOwnerActive closes the node's IdleGate) until the owner leaves,
// and stopping the node while training is held does not hang.

const input: ManifestInput = {
  apiVersion: 'canopy/v1',
  kind: 'Job',
  name: 'idle-only',
  model: { kind: 'logreg', inputShape: [784], numClasses: 10 },
  train: { optimizer: { kind: 'sgd', lr: 0.1 }, epochs: 1, batchSize: 32 },
  consensus: 'single',
  stop: { rounds: 2 },
  dataset: { source: { kind: 'mnist' } },
  timing: { heartbeatSeconds: 1 },
  cluster: { host: 'host', workers: ['host'], clients: ['alice', 'bob'] },
};

describe('owner activity on real nodes', () => {
  let cluster: MemoryCluster | undefined;
  const dirs: string[] = [];
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
    await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 })));
  });

  async function startWithAliceBusy() {
    const dir = await mkdtemp(join(tmpdir(), 'canopy-idle-'));
    dirs.push(dir);
    cluster = await startMemoryCluster(validateManifest(input), { baseDir: dir, node: { compute: 'synthetic', consent: { kind: 'approve-all' }, log: createLog('node', 'silent') } });
    const alice = cluster.nodes.get('alice')!;
    const reports: { ownerActive: boolean; held: number }[] = [];
    alice.events.on('owner:activity', (s) => reports.push(s));
    alice.setOwnerActive(true);
    const trained: string[] = [];
    alice.events.on('task:done', (d) => trained.push(d.task));
    const held = alice.events.once('owner:activity', (s) => s.held > 0);
    const rootId = await cluster.submit();
    await held;
    return { alice, rootId, reports, trained };
  }

  it('holds a busy owner’s training until they leave, then the job finishes', async () => {
    const { alice, rootId, reports, trained } = await startWithAliceBusy();
    expect(reports[0]).toEqual({ ownerActive: true, held: 0 });
    expect(trained.filter((t) => t === 'train')).toEqual([]);
    const done = cluster!.nodes.get('host')!.events.once('job:finished', (d) => d.rootId === rootId);
    alice.setOwnerActive(false);
    expect((await done).final).not.toBeNull();
    expect(trained.filter((t) => t === 'train').length).toBeGreaterThan(0);
    expect(reports.at(-1)).toEqual({ ownerActive: false, held: 0 });
  }, 120_000);

  it('stops while training is held, without running it', async () => {
    const { alice, trained } = await startWithAliceBusy();
    await alice.stop();
    expect(trained.filter((t) => t === 'train')).toEqual([]);
  }, 120_000);
});
