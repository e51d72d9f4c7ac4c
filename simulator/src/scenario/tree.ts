import { z } from 'zod';
import { TimingSpec, type ClusterSpec, type MemberId } from '@canopy/core/protocol';

// A generated job tree, for scenarios too large to list by hand (issue #5: "node counts per
// cluster, or a generated tree"). Names follow the protocol's job names so a node's name says
// which job it belongs to: the root cluster is `r`, its i-th sub-cluster is `i` (job `J#i`),
// whose j-th sub-cluster is `i_j` (job `J#i_j`), and so on.

/** The most clients a generated tree may have; beyond this a typo is likelier than intent. */
export const MAX_TREE_CLIENTS = 1_000_000;

/**
 * A regular tree of clusters. `depth` counts cluster levels: 1 is a single cluster of clients,
 * 2 a root over leaf sub-clusters, and so on. `fanout` gives the number of sub-clusters of
 * each inner cluster: one number for every level, or a list with one entry per inner level
 * (length `depth - 1`, root first). `levelTiming[d]`, when given, is the timing of every
 * cluster at depth d (0 = root), e.g. `localRounds` at the leaves.
 */
export const TreeSpec = z
  .strictObject({
    depth: z.number().int().min(1).max(6),
    fanout: z.union([z.number().int().min(1).max(10_000), z.array(z.number().int().min(1).max(10_000)).min(1).max(5)], {
      error: 'expected a whole number of sub-clusters, or a list of them with one per inner level',
    }).optional(),
    clientsPerLeaf: z.number().int().min(1).max(100_000),
    workersPerCluster: z.number().int().min(1).max(64).default(3),
    levelTiming: z.array(TimingSpec).min(1).max(6).optional(),
  })
  .superRefine((t, ctx) => {
    if (t.depth > 1 && t.fanout === undefined) {
      ctx.addIssue({ code: 'custom', path: ['fanout'], message: `a tree of depth ${t.depth} needs \`fanout\`: sub-clusters per inner cluster` });
      return;
    }
    if (Array.isArray(t.fanout) && t.fanout.length !== t.depth - 1) {
      ctx.addIssue({ code: 'custom', path: ['fanout'], message: `expected one fanout per inner level, ${t.depth - 1} for depth ${t.depth}` });
      return;
    }
    if (t.levelTiming && t.levelTiming.length > t.depth) {
      ctx.addIssue({ code: 'custom', path: ['levelTiming'], message: `expected at most one entry per level, ${t.depth} for depth ${t.depth}` });
    }
    const clients = treeSize(t).clients;
    if (clients > MAX_TREE_CLIENTS) {
      ctx.addIssue({ code: 'custom', path: ['clientsPerLeaf'], message: `the tree would have ${clients} clients; at most ${MAX_TREE_CLIENTS} are allowed` });
    }
  });
export type TreeSpec = z.infer<typeof TreeSpec>;
/** A tree as written, before defaults. */
export type TreeSpecInput = z.input<typeof TreeSpec>;

/** How many of each thing a tree holds, computed without expanding it. */
export interface TreeSize {
  readonly clusters: number;
  readonly leaves: number;
  readonly clients: number;
  readonly workers: number;
  /** Every distinct node: hosts + workers + clients. */
  readonly nodes: number;
}

/** The number of sub-clusters each cluster at `level` has (0 = root); 0 at the leaves. */
export function fanoutAt(tree: Pick<TreeSpec, 'depth' | 'fanout'>, level: number): number {
  if (level >= tree.depth - 1) return 0;
  const f = tree.fanout;
  if (f === undefined) return 0;
  return typeof f === 'number' ? f : (f[level] ?? 0);
}

/** Counts a tree's clusters, clients and workers. */
export function treeSize(tree: Pick<TreeSpec, 'depth' | 'fanout' | 'clientsPerLeaf'> & { workersPerCluster?: number }): TreeSize {
  let atLevel = 1;
  let clusters = 0;
  for (let level = 0; level < tree.depth; level++) {
    clusters += atLevel;
    if (level < tree.depth - 1) atLevel *= fanoutAt(tree, level);
  }
  const leaves = atLevel;
  const clients = leaves * tree.clientsPerLeaf;
  const workers = clusters * (tree.workersPerCluster ?? 3);
  return { clusters, leaves, clients, workers, nodes: clusters + workers + clients };
}

/** The name of the cluster path of the `index`-th sub-cluster of the cluster at `parent` (root is `r`). */
export function childClusterPath(parent: string, index: number): string {
  return parent === 'r' ? String(index) : `${parent}_${index}`;
}

/** The node names of one cluster of a generated tree. */
export function clusterNodeNames(path: string, namePrefix = ''): { host: MemberId; worker: (k: number) => MemberId; client: (k: number) => MemberId } {
  return {
    host: `${namePrefix}host-${path}`,
    worker: (k) => `${namePrefix}w-${path}-${k}`,
    client: (k) => `${namePrefix}c-${path}-${k}`,
  };
}

/**
 * Expands a tree into the cluster spec a manifest carries. Deterministic: the same tree
 * always gives the same names in the same order (`host-r`, `w-0_1-2`, `c-0_1-17`, ...),
 * so runs are reproducible and a node's name says where it sits. Linear in the node count.
 */
export function expandTree(tree: TreeSpec, namePrefix = ''): ClusterSpec {
  const build = (path: string, level: number): ClusterSpec => {
    const names = clusterNodeNames(path, namePrefix);
    const workers = new Array<MemberId>(tree.workersPerCluster);
    for (let k = 0; k < workers.length; k++) workers[k] = names.worker(k);
    const cluster: ClusterSpec = { host: names.host, workers };
    const timing = tree.levelTiming?.[level];
    if (timing) cluster.timing = { ...timing };
    if (level === tree.depth - 1) {
      const clients = new Array<MemberId>(tree.clientsPerLeaf);
      for (let k = 0; k < clients.length; k++) clients[k] = names.client(k);
      cluster.clients = clients;
    } else {
      const n = fanoutAt(tree, level);
      const clusters = new Array<ClusterSpec>(n);
      for (let i = 0; i < n; i++) clusters[i] = build(childClusterPath(path, i), level + 1);
      cluster.clusters = clusters;
    }
    return cluster;
  };
  return build('r', 0);
}
