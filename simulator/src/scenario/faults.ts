import { z } from 'zod';
import { MemberId, type ClusterSpec } from '@canopy/core/protocol';

// Faults a scenario injects on top of what the device profiles already do (FELES's "device
// availability and failures"). Each is defined so that the runner has nothing to interpret:
// who fails, when, and for how long.

/** A host that stops at a virtual time and, optionally, restarts from its checkpoint. */
export const HostCrashSpec = z.strictObject({
  /** The host's node name (with a generated tree: `host-r`, `host-0`, `host-0_1`, ...). */
  host: MemberId,
  atSeconds: z.number().min(0),
  /** Seconds until it restarts and resumes its round from its checkpoint; omit for never. */
  restartAfterSeconds: z.number().positive().optional(),
});
export type HostCrashSpec = z.infer<typeof HostCrashSpec>;

/** What a lying worker uploads instead of the honest aggregate. */
export const LieKind = z.enum(['noise', 'zeros', 'sign-flip']);
export type LieKind = z.infer<typeof LieKind>;

/** Injected faults. */
export const FaultSpec = z.strictObject({
  /**
   * Probability that a client sampled in a round crashes before submitting (it rejoins the
   * next round). When set, it replaces every device profile's `crashPerRound`.
   */
  clientCrashPerRound: z.number().min(0).max(1).optional(),
  /** In every cluster, this many workers upload a wrong aggregate (see {@link lyingWorkers}). */
  lyingWorkersPerCluster: z.number().int().min(0).max(64).default(0),
  /** How lying workers corrupt their aggregate: N(0, 1) noise added per coordinate, all zeros, or negated. */
  lie: LieKind.default('noise'),
  hostCrashes: z.array(HostCrashSpec).default([]),
});
export type FaultSpec = z.infer<typeof FaultSpec>;

/**
 * The lying workers of a tree: the last `perCluster` workers listed in every cluster. Fixed
 * by position, not drawn at random, so every repetition fights the same adversary and a
 * reader of the scenario can name them.
 */
export function lyingWorkers(cluster: ClusterSpec, perCluster: number): Set<MemberId> {
  const out = new Set<MemberId>();
  if (perCluster <= 0) return out;
  const walk = (c: ClusterSpec) => {
    for (const w of c.workers.slice(Math.max(0, c.workers.length - perCluster))) out.add(w);
    c.clusters?.forEach(walk);
  };
  walk(cluster);
  return out;
}

/** Every host, worker and client named in a cluster tree. */
export function clusterNodes(cluster: ClusterSpec): Set<MemberId> {
  const out = new Set<MemberId>();
  const walk = (c: ClusterSpec) => {
    out.add(c.host);
    for (const w of c.workers) out.add(w);
    for (const x of c.clients ?? []) out.add(x);
    c.clusters?.forEach(walk);
  };
  walk(cluster);
  return out;
}

/** The fewest workers any cluster of the tree has. */
export function minWorkers(cluster: ClusterSpec): number {
  let min = cluster.workers.length;
  cluster.clusters?.forEach((c) => (min = Math.min(min, minWorkers(c))));
  return min;
}

/** The host of every cluster of the tree. */
export function clusterHosts(cluster: ClusterSpec): Set<MemberId> {
  const out = new Set<MemberId>();
  const walk = (c: ClusterSpec) => {
    out.add(c.host);
    c.clusters?.forEach(walk);
  };
  walk(cluster);
  return out;
}
