import { afterEach, describe, expect, it } from 'vitest';
import { validateManifest } from '../../protocol/manifest.js';
import { createLog } from '../../util/log.js';
import { smallJob, testClusters } from './testing.js';

// Blob retention among real runtime nodes (real stores on disk) over the memory transport.
describe('runtime: blob retention', () => {
  const clusters = testClusters('ret');
  afterEach(() => clusters.stopAll());

  it('removes parameter blobs of rounds long past and, after the grace period, of the finished job, never its final model; the job ends as without it', async () => {
    const manifest = validateManifest(smallJob('retention', { stop: { rounds: 6 } }));
    const cluster = await clusters.start(manifest, { node: { compute: 'synthetic', consent: { kind: 'approve-all' }, retention: { keepRounds: 1, finishedGraceMs: 1500 }, log: createLog('node', process.env.CANOPY_LOG ?? 'warn') } });
    const finals = new Map<string, string | null>();
    for (const [name, node] of cluster.nodes) node.events.on('machine:finished', (d) => finals.set(`${name}/${d.role}:${d.job}`, d.final?.hash ?? null));
    const host = cluster.nodes.get('host')!;
    const alice = cluster.nodes.get('alice')!;
    const aliceDone = alice.events.once('job:finished');
    const hostDone = host.events.once('job:finished');
    const rootId = await cluster.submit();
    const done = await hostDone;
    await aliceDone;
    expect(done.reason).toMatch(/^rounds/);
    // The host works too: each round it holds the clients' updates, the inputs list and the aggregate.
    expect(host.runner(rootId)!.blobsRemoved, 'blobs the host removed while the job ran').toBeGreaterThanOrEqual(8);
    expect(alice.runner(rootId)!.blobsRemoved, 'blobs a client removed while the job ran').toBeGreaterThanOrEqual(4);
    const countAtEnd = (await host.store.blobs.list()).length;
    await new Promise((r) => setTimeout(r, 3000));
    const left = (await host.store.blobs.list()).map((b) => b.hash);
    expect(left.length, 'after the grace period').toBeLessThan(countAtEnd);
    expect(left, 'the final model stays').toContain(done.final!.hash);
    const distinct = new Set([...finals.values()].filter((h) => h !== null));
    expect([...distinct], JSON.stringify(Object.fromEntries(finals))).toEqual([done.final!.hash]);
  }, 180_000);
});
