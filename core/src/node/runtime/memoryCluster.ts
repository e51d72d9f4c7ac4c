import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { loadOrCreateIdentity } from '../../net/identity.js';
import { allMembers, buildJobTree } from '../../protocol/jobTree.js';
import { validateManifest, type Manifest } from '../../protocol/manifest.js';
import { CanopyNode, type CanopyNodeOptions } from './canopyNode.js';
import { signSubmission } from './submission.js';

/** Options of {@link startMemoryCluster}. */
export interface MemoryClusterInit {
  /** Data directories go under here, one per node name. */
  readonly baseDir: string;
  /** Options shared by every node (compute, consent, …). */
  readonly node?: Partial<CanopyNodeOptions>;
  /** Per-node overrides, by node name. */
  readonly perNode?: (name: string) => Partial<CanopyNodeOptions>;
}

/** N runtime nodes in one process over @libp2p/memory, one per member the manifest names. */
export interface MemoryCluster {
  /** The manifest with `peers:` filled in with each node's peer id and memory address. */
  readonly manifest: Manifest;
  readonly nodes: ReadonlyMap<string, CanopyNode>;
  /** Signs the manifest with a fresh submitter key and submits it to the root host; resolves with the root id. */
  submit(): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Builds and starts one {@link CanopyNode} per member of a manifest, all in this process over
 * the memory transport: the simulator's fidelity mode and the runtime's in-process tests.
 */
export async function startMemoryCluster(manifest: Manifest, init: MemoryClusterInit): Promise<MemoryCluster> {
  const names = allMembers(buildJobTree(manifest));
  const peers: Record<string, { peerId: string; addresses: string[] }> = {};
  for (const name of names) {
    const { peerId } = await loadOrCreateIdentity(join(init.baseDir, name));
    peers[name] = { peerId, addresses: [`/memory/${name}-${randomUUID()}`] };
  }
  const withPeers = validateManifest({ ...manifest, peers }, 'manifest');
  const nodes = new Map<string, CanopyNode>();
  const root = withPeers.cluster.host;
  for (const name of names) {
    const bootstrap = name === root ? [] : [`${peers[root]!.addresses[0]}/p2p/${peers[root]!.peerId}`];
    nodes.set(name, new CanopyNode({ inMemory: true, announceMs: 500, ...init.node, ...init.perNode?.(name), dataDir: join(init.baseDir, name), listen: peers[name]!.addresses, bootstrap }));
  }
  // If any node fails to start, stop the ones that did: a half-started cluster would keep
  // running in this process with nobody holding a handle to stop it.
  const started = await Promise.allSettled([...nodes.values()].map((n) => n.start()));
  const failed = started.findIndex((r) => r.status === 'rejected');
  if (failed >= 0) {
    await Promise.allSettled([...nodes.values()].map((n) => n.stop()));
    const name = [...nodes.keys()][failed]!;
    throw new Error(`memory cluster: node ${name} failed to start: ${((started[failed] as PromiseRejectedResult).reason as Error)?.message ?? String((started[failed] as PromiseRejectedResult).reason)}`, { cause: (started[failed] as PromiseRejectedResult).reason });
  }
  return {
    manifest: withPeers,
    nodes,
    submit: async () => {
      const key = await generateKeyPair('Ed25519');
      const submission = await signSubmission(withPeers, key, peerIdFromPrivateKey(key).toString());
      const reply = await nodes.get(root)!.acceptSubmission(submission);
      if (!reply.ok) throw new Error(reply.error);
      return reply.rootId;
    },
    stop: async () => {
      await Promise.all([...nodes.values()].map((n) => n.stop()));
    },
  };
}
