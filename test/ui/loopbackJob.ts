import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { multiaddr } from '@multiformats/multiaddr';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { CanopyNode } from '@canopy/core/node/runtime/canopyNode';
import { signSubmission } from '@canopy/core/node/runtime/submission';
import { validateManifest, type ManifestInput } from '@canopy/core/protocol';
import { createLog } from '@canopy/core/util';
import { canopyNodePort, createAppLog } from '@canopy/core/node/appApi/canopyNodePort';
import { startUiServer, type UiServer } from '@canopy/core/node/appApi/uiServer';

/** A real job among real nodes on 127.0.0.1 (TCP), one of which serves the UI. */
export interface LoopbackJob {
  readonly ui: UiServer;
  readonly me: CanopyNode;
  submit(): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Starts a one-cluster job's nodes over TCP on loopback: `root` hosts and aggregates, `me`
 * and `bob` train. `me` serves the UI (as `canopy node --ui` does) with the app log attached.
 */
export async function startLoopbackJob(rounds: number, staticDir: string): Promise<LoopbackJob> {
  const base = await mkdtemp(join(tmpdir(), 'canopy-ui-e2e-'));
  const appLog = createAppLog('info', false);
  const quiet = createLog('node', 'silent');
  const names = ['root', 'me', 'bob'];
  const nodes = new Map<string, CanopyNode>();
  for (const name of names) {
    nodes.set(name, new CanopyNode({ dataDir: join(base, name), listen: ['/ip4/127.0.0.1/tcp/0'], loopbackCluster: true, announceMs: 500, compute: 'synthetic', syntheticTrainMs: 400, consent: { kind: 'approve-all' }, log: name === 'me' ? appLog.log : quiet }));
  }
  await Promise.all([...nodes.values()].map((n) => n.start()));
  const root = nodes.get('root')!;
  for (const name of ['me', 'bob']) await nodes.get(name)!.libp2p.dial(multiaddr(root.multiaddrs()[0]!));
  const input: ManifestInput = {
    apiVersion: 'canopy/v1',
    kind: 'Job',
    name: 'digits-demo',
    description: 'MNIST digits, one cluster, FedAvg',
    model: { kind: 'mlp', inputShape: [784], numClasses: 10 },
    train: { optimizer: { kind: 'sgd', lr: 0.05 }, epochs: 1, batchSize: 32 },
    consensus: 'single',
    stop: { rounds },
    dataset: { source: { kind: 'mnist' } },
    cluster: { host: 'root', workers: ['root'], clients: ['me', 'bob'] },
    peers: Object.fromEntries(names.map((n) => [n, { peerId: nodes.get(n)!.peerId, addresses: nodes.get(n)!.multiaddrs() }])),
  };
  const manifest = validateManifest(input, 'e2e manifest');
  const me = nodes.get('me')!;
  const port = canopyNodePort(me, { appLog, pollMs: 100 });
  const ui = await startUiServer(port, { staticDir });
  return {
    ui,
    me,
    async submit() {
      const key = await generateKeyPair('Ed25519');
      const reply = await root.acceptSubmission(await signSubmission(manifest, key, peerIdFromPrivateKey(key).toString()));
      if (!reply.ok) throw new Error(reply.error);
      return reply.rootId;
    },
    async stop() {
      await ui.stop();
      port.close();
      await Promise.all([...nodes.values()].map((n) => n.stop()));
    },
  };
}
