import { createServer } from 'node:net';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { loadOrCreateIdentity } from '../../net/identity.js';
import { allMembers, buildJobTree } from '../../protocol/jobTree.js';
import { validateManifest, type Manifest } from '../../protocol/manifest.js';

/** One node of a local cluster: its name in the manifest, data dir, identity and address. */
export interface LocalNodePlan {
  readonly name: string;
  readonly dataDir: string;
  readonly peerId: string;
  readonly port: number;
  /** TCP listen address on 127.0.0.1 (without /p2p). */
  readonly listen: string;
  /** Dialable address (with /p2p/<peer id>). */
  readonly addr: string;
}

/** A manifest made runnable on 127.0.0.1, one OS process per node. */
export interface LocalClusterPlan {
  readonly manifest: Manifest;
  readonly nodes: readonly LocalNodePlan[];
  readonly root: LocalNodePlan;
}

/**
 * Plans a cluster on this machine: an identity and data dir per member the manifest names
 * (under `workDir/nodes/<name>`, reused across runs), a free TCP port each, and the
 * manifest's `peers:` rewritten to those peer ids and 127.0.0.1 addresses.
 */
export async function planLocalCluster(manifest: Manifest, workDir: string): Promise<LocalClusterPlan> {
  const names = allMembers(buildJobTree(manifest));
  const nodes: LocalNodePlan[] = [];
  const taken = new Set<number>();
  for (const name of names) {
    const dataDir = join(workDir, 'nodes', name);
    await mkdir(dataDir, { recursive: true });
    const { peerId } = await loadOrCreateIdentity(dataDir);
    let port = await freePort();
    while (taken.has(port)) port = await freePort();
    taken.add(port);
    const listen = `/ip4/127.0.0.1/tcp/${port}`;
    nodes.push({ name, dataDir, peerId, port, listen, addr: `${listen}/p2p/${peerId}` });
  }
  const peers = Object.fromEntries(nodes.map((n) => [n.name, { peerId: n.peerId, addresses: [n.listen] }]));
  const withPeers = validateManifest({ ...manifest, peers }, 'manifest');
  return { manifest: withPeers, nodes, root: nodes.find((n) => n.name === manifest.cluster.host)! };
}

// The OS picks a free port; it is released at once for the node to bind. Another program
// could take it in between, which the node then reports as a listen error.
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}
