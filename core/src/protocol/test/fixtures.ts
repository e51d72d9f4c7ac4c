import { validateManifest, type Manifest, type ManifestInput } from '../manifest.js';

// Manifests for the protocol's tests: small trees with short timings, so a run takes a
// few virtual minutes.

/** A cluster description for `treeManifest`: a leaf is a client count, an inner node a list. */
export type Shape = number | Shape[];

/** Builds a manifest whose tree has the given shape; every cluster gets `workers` workers. */
export function treeManifest(shape: Shape, opts: { workers?: number; rounds?: number; name?: string; extra?: Partial<ManifestInput>; timing?: ManifestInput['timing']; distributor?: boolean } = {}): Manifest {
  let hostN = 0;
  let clientN = 0;
  const workersN = opts.workers ?? 3;
  const cluster = (s: Shape, path: string): Record<string, unknown> => {
    const host = `host${hostN++}`;
    const workers = Array.from({ length: workersN }, (_, i) => `w${path}-${i}`);
    if (typeof s === 'number') return { host, workers, clients: Array.from({ length: s }, () => `c${clientN++}`) };
    return { host, workers, clusters: s.map((sub, i) => cluster(sub, `${path}${i}`)) };
  };
  return validateManifest({
    apiVersion: 'canopy/v1',
    kind: 'Job',
    name: opts.name ?? 'J',
    model: { kind: 'mlp', inputShape: [784], numClasses: 10 },
    train: { optimizer: { kind: 'sgd', lr: 0.1 }, epochs: 1, batchSize: 32 },
    stop: { rounds: opts.rounds ?? 3 },
    dataset: { source: { kind: 'mnist' }, ...(opts.distributor ? { distributor: 'dist' } : {}) },
    timing: { heartbeatSeconds: 1, roundDeadlineSeconds: 10, ...opts.timing },
    cluster: cluster(shape, 'r'),
    ...opts.extra,
  });
}
