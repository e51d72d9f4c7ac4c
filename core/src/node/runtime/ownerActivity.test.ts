import { afterEach, describe, expect, it } from 'vitest';
import { validateManifest } from '../../protocol/manifest.js';
import { createLog } from '../../util/log.js';
import type { MemoryCluster } from './memoryCluster.js';
import { smallJob, testClusters } from './testing.js';

// The "only while idle" limit on real nodes: a client whose owner is at the computer holds
// its training (CanopyNode.setOwnerActive closes the node's IdleGate) until the owner leaves,
// and stopping the node while training is held does not hang.

const input = smallJob('idle-only');

describe('owner activity on real nodes', () => {
  let cluster: MemoryCluster | undefined;
  const clusters = testClusters('idle');
  afterEach(async () => {
    cluster = undefined;
    await clusters.stopAll();
  });

  async function startWithAliceBusy() {
    cluster = await clusters.start(validateManifest(input), { node: { compute: 'synthetic', consent: { kind: 'approve-all' }, log: createLog('node', 'silent') } });
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
