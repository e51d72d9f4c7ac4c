import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { multiaddr } from '@multiformats/multiaddr';
import { peerIdFromString } from '@libp2p/peer-id';
import { createCanopyNode, type CanopyLibp2p } from '../../net/createNode.js';
import { fetchBlob } from '../../net/blobExchange.js';
import { validateManifest, type ManifestInput } from '../../protocol/manifest.js';
import { BlobStore } from '../storage/blobStore.js';
import { createLog } from '../../util/log.js';
import { RUNTIME_RECORD, type RuntimeRecord } from './jobRunner.js';
import { startMemoryCluster, type MemoryCluster } from './memoryCluster.js';

// Who may download a node's blobs: members of its jobs, anyone for announced submissions
// and downloadable final results, and nobody else. A stranger that learns a hash (gossip
// topics can be read by any subscriber) must not be able to fetch updates or results.

const input = (allowModelDownload: boolean): ManifestInput => ({
  apiVersion: 'canopy/v1',
  kind: 'Job',
  name: `access-${allowModelDownload ? 'open' : 'closed'}`,
  model: { kind: 'logreg', inputShape: [784], numClasses: 10 },
  train: { optimizer: { kind: 'sgd', lr: 0.1 }, epochs: 1, batchSize: 32 },
  consensus: 'single',
  stop: { rounds: 2 },
  dataset: { source: { kind: 'mnist' } },
  timing: { heartbeatSeconds: 1 },
  allowModelDownload,
  cluster: { host: 'host', workers: ['host'], clients: ['alice', 'bob'] },
});

describe('blob access rules on real nodes', () => {
  let cluster: MemoryCluster | undefined;
  let stranger: CanopyLibp2p | undefined;
  const dirs: string[] = [];
  afterEach(async () => {
    await stranger?.stop();
    await cluster?.stop();
    stranger = cluster = undefined;
    await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  });

  async function runJob(allowModelDownload: boolean) {
    const dir = await mkdtemp(join(tmpdir(), 'canopy-access-'));
    dirs.push(dir);
    cluster = await startMemoryCluster(validateManifest(input(allowModelDownload)), { baseDir: dir, node: { compute: 'synthetic', consent: { kind: 'approve-all' }, log: createLog('node', 'silent') } });
    const host = cluster.nodes.get('host')!;
    const rootId = await cluster.submit();
    const done = await host.events.once('job:finished', (d) => d.rootId === rootId);
    expect(done.final).not.toBeNull();
    stranger = await createCanopyNode({ inMemory: true });
    const hostAddr = `${cluster.manifest.peers!.host!.addresses![0]!}/p2p/${host.peerId}`;
    await stranger.dial(multiaddr(hostAddr));
    const store = new BlobStore(join(dir, 'stranger'));
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
