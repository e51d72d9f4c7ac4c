import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { multiaddr } from '@multiformats/multiaddr';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { CanopyNode } from '@canopy/core/runtime';
import { signSubmission } from '@canopy/core/runtime';
import { validateManifest, type ManifestInput } from '@canopy/core/protocol';
import { createLog } from '@canopy/core/util';
import { canopyNodePort, createAppLog } from '@canopy/core/app';
import { createOwnerRelay } from '@canopy/core/app';
import { startUiServer, type UiServer } from '@canopy/core/app';

/** A real job tree among real nodes on 127.0.0.1 (TCP), one of which serves the UI. */
export interface LoopbackJob {
  readonly ui: UiServer;
  /** The node whose owner uses the UI (member `me`, a client). */
  readonly me: CanopyNode;
  /** The root host, worker and distributor. */
  readonly root: CanopyNode;
  /** Submits a job to the root; resolves its root id. `seed` splits the data (and so names the chunks). */
  submit(name: string, rounds: number, seed: number): Promise<string>;
  /** The hash of the dataset chunk the distributor prepared for `me` in a job, once prepared. */
  chunkFor(rootId: string): Promise<string | undefined>;
  /** Every blob hash in `me`'s blob store on disk, complete or partly downloaded. */
  storedBlobs(): Promise<string[]>;
  stop(): Promise<void>;
}

/**
 * Starts the nodes of a one-cluster job over TCP on loopback, all training for real with tfjs
 * on compute threads: `root` hosts, aggregates and distributes MNIST; `me` and `bob` train.
 * `me` serves the UI as `canopy node --ui` does: its owner is asked (in the UI) about each job
 * sheet and each dataset download. `bob` approves everything, as a headless test node does.
 */
export async function startLoopbackJob(staticDir: string): Promise<LoopbackJob> {
  const base = await mkdtemp(join(tmpdir(), 'canopy-ui-e2e-'));
  const appLog = createAppLog('info', false);
  const quiet = createLog('node', 'silent');
  const owner = createOwnerRelay();
  const names = ['root', 'me', 'bob'] as const;
  const nodes = new Map<string, CanopyNode>();
  for (const name of names) {
    const asks = name === 'me' ? { consent: owner.consent, invite: owner.invite } : { consent: { kind: 'approve-all' } as const };
    nodes.set(name, new CanopyNode({ dataDir: join(base, name), listen: ['/ip4/127.0.0.1/tcp/0'], loopbackCluster: true, announceMs: 500, compute: 'ml', computeThreads: 1, ...asks, log: name === 'me' ? appLog.log : quiet }));
  }
  await Promise.all([...nodes.values()].map((n) => n.start()));
  const root = nodes.get('root')!;
  const me = nodes.get('me')!;
  for (const name of ['me', 'bob']) await nodes.get(name)!.libp2p.dial(multiaddr(root.multiaddrs()[0]!));
  const port = canopyNodePort(me, { appLog, owner, pollMs: 100 });
  const ui = await startUiServer(port, { staticDir });
  const manifestFor = (name: string, rounds: number, seed: number): ManifestInput => ({
    apiVersion: 'canopy/v1',
    kind: 'Job',
    name,
    description: 'Handwritten digits (MNIST): logistic regression, one cluster, FedAvg',
    model: { kind: 'logreg', inputShape: [784], numClasses: 10 },
    train: { optimizer: { kind: 'sgd', lr: 0.1 }, epochs: 1, batchSize: 32, seed },
    consensus: 'single',
    stop: { rounds },
    dataset: { source: { kind: 'mnist' }, partition: { kind: 'iid' }, seed, distributor: 'root' },
    timing: { heartbeatSeconds: 1, roundDeadlineSeconds: 120 },
    cluster: { host: 'root', workers: ['root'], clients: ['me', 'bob'] },
    peers: Object.fromEntries(names.map((n) => [n, { peerId: nodes.get(n)!.peerId, addresses: nodes.get(n)!.multiaddrs() }])),
  });
  return {
    ui,
    me,
    root,
    async submit(name, rounds, seed) {
      const manifest = validateManifest(manifestFor(name, rounds, seed), 'e2e manifest');
      const key = await generateKeyPair('Ed25519');
      const reply = await root.acceptSubmission(await signSubmission(manifest, key, peerIdFromPrivateKey(key).toString()));
      if (!reply.ok) throw new Error(reply.error);
      return reply.rootId;
    },
    async chunkFor(rootId) {
      const dist = root.runner(rootId)?.machineStates().find((m) => m.role === 'distributor');
      const indexes = dist?.state.role === 'distributor' ? dist.state.indexes : null;
      const ref = indexes ? Object.values(indexes)[0] : undefined;
      if (!ref) return undefined;
      const index = (await root.blobs.getJson(ref.hash)) as Record<string, { train: { hash: string } }> | undefined;
      return index?.me?.train.hash;
    },
    async storedBlobs() {
      const dir = me.store.blobs.dir;
      return [...(await walk(join(dir, 'blobs'))), ...(await walk(join(dir, 'partial')))];
    },
    async stop() {
      await ui.stop();
      port.close();
      await Promise.all([...nodes.values()].map((n) => n.stop()));
    },
  };
}

// Blob files are named by their hash, in shard directories; partial downloads are not blobs.
async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    if (entry.isDirectory()) out.push(...(await walk(join(dir, entry.name))));
    else if (/^[0-9a-f]{64}$/.test(entry.name)) out.push(entry.name);
  }
  return out;
}
