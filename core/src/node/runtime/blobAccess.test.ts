import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { multiaddr } from '@multiformats/multiaddr';
import { peerIdFromString } from '@libp2p/peer-id';
import { createCanopyNode, type CanopyLibp2p } from '../../net/createNode.js';
import { fetchBlob } from '../../net/blobExchange.js';
import { validateManifest } from '../../protocol/manifest.js';
import { BlobStore } from '../../storage/blobStore.js';
import { createLog } from '../../util/log.js';
import { RUNTIME_RECORD, type RuntimeRecord } from './jobRunner.js';
import type { MemoryCluster } from './memoryCluster.js';
import { smallJob, testClusters } from './testing.js';

// Who may download a node's blobs: members of its jobs, anyone for announced submissions
// and downloadable final results, and nobody else. A stranger that learns a hash (gossip
// topics can be read by any subscriber) must not be able to fetch updates or results.

const input = (allowModelDownload: boolean) => smallJob(`access-${allowModelDownload ? 'open' : 'closed'}`, { allowModelDownload });

describe('blob access rules on real nodes', () => {
  let cluster: MemoryCluster | undefined;
  let stranger: CanopyLibp2p | undefined;
  const clusters = testClusters('access');
  afterEach(async () => {
    await stranger?.stop();
    stranger = cluster = undefined;
    await clusters.stopAll();
  });

  async function runJob(allowModelDownload: boolean) {
    const started = await clusters.start(validateManifest(input(allowModelDownload)), { node: { compute: 'synthetic', consent: { kind: 'approve-all' }, log: createLog('node', 'silent') } });
    cluster = started;
    const host = cluster.nodes.get('host')!;
    const rootId = await cluster.submit();
    const done = await host.events.once('job:finished', (d) => d.rootId === rootId);
    expect(done.final).not.toBeNull();
    stranger = await createCanopyNode({ inMemory: true });
    const hostAddr = `${cluster.manifest.peers!.host!.addresses![0]!}/p2p/${host.peerId}`;
    await stranger.dial(multiaddr(hostAddr));
    const store = new BlobStore(join(started.dir, 'stranger'));
    const fetchAsStranger = (hash: string) => fetchBlob(stranger!, store, { hash }, [peerIdFromString(host.peerId)], { maxBytes: 2 ** 30 }).then(() => 'fetched', (err: Error) => err.message);
    return { host, rootId, final: done.final!.hash, fetchAsStranger };
  }

  it('refuses a stranger the final model of a job that does not allow downloads; a member of the job still may fetch it', async () => {
    const { host, final, fetchAsStranger } = await runJob(false);
    const refusedBefore = host.blobs.refused;
    expect(await fetchAsStranger(final)).not.toBe('fetched');
    expect(host.blobs.refused).toBeGreaterThan(refusedBefore);
    expect(host.blobs.mayServe(stranger!.peerId.toString(), final)).toBe(false);
    // A member of the job may fetch the same blob (members receive every global anyway).
    expect(host.blobs.mayServe(cluster!.nodes.get('alice')!.peerId, final)).toBe(true);
  }, 120_000);

  it('hands the final model to anyone once the job allows downloads, and the announced submission always', async () => {
    const { host, rootId, final, fetchAsStranger } = await runJob(true);
    expect(await fetchAsStranger(final)).toBe('fetched');
    const record = await host.store.loadState<RuntimeRecord>(rootId, RUNTIME_RECORD);
    expect(await fetchAsStranger(record!.submission.hash)).toBe('fetched');
  }, 120_000);
});
