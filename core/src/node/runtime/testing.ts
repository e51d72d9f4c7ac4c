import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ManifestInput } from '../../protocol/manifest.js';
import { startMemoryCluster, type MemoryCluster, type MemoryClusterInit } from './memoryCluster.js';

// Helpers shared by this folder's tests; not exported from index.ts.

/**
 * A small job for runtime tests: logistic regression on the embedded MNIST digits, `host`
 * hosting and working, `alice` and `bob` training, 1-second heartbeats, two rounds. `over`
 * replaces top-level fields.
 */
export function smallJob(name: string, over: Partial<ManifestInput> = {}): ManifestInput {
  return {
    apiVersion: 'canopy/v1',
    kind: 'Job',
    name,
    model: { kind: 'logreg', inputShape: [784], numClasses: 10 },
    train: { optimizer: { kind: 'sgd', lr: 0.1 }, epochs: 1, batchSize: 32 },
    consensus: 'single',
    stop: { rounds: 2 },
    dataset: { source: { kind: 'mnist' } },
    timing: { heartbeatSeconds: 1 },
    cluster: { host: 'host', workers: ['host'], clients: ['alice', 'bob'] },
    ...over,
  };
}

/** Starts memory clusters in fresh temporary directories, and stops and removes them all. */
export interface TestClusters {
  /** A started cluster, with the temporary directory its nodes' data is under. */
  start(manifest: Parameters<typeof startMemoryCluster>[0], init?: Omit<MemoryClusterInit, 'baseDir'>): Promise<MemoryCluster & { readonly dir: string }>;
  /** Stops every cluster started so far and removes their directories: pass it to `afterEach`. */
  stopAll(): Promise<void>;
}

/** Memory clusters for one test file, their data under temporary directories named `canopy-<prefix>-…`. */
export function testClusters(prefix: string): TestClusters {
  const clusters: MemoryCluster[] = [];
  const dirs: string[] = [];
  return {
    async start(manifest, init = {}) {
      const dir = await mkdtemp(join(tmpdir(), `canopy-${prefix}-`));
      // Registered before starting: a cluster that fails to start still leaves a directory.
      dirs.push(dir);
      const cluster = await startMemoryCluster(manifest, { ...init, baseDir: dir });
      clusters.push(cluster);
      return { ...cluster, dir };
    },
    async stopAll() {
      await Promise.all(clusters.splice(0).map((c) => c.stop()));
      await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 })));
    },
  };
}
