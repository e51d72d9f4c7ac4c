import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Manifest, buildJobTree, type ClusterSpec } from '@canopy/core/protocol';
import { TreeSpec, expandTree, treeSize } from './tree.js';
import { clusterNodes, lyingWorkers } from './faults.js';
import { countCluster } from './describeScenario.js';

const smallTree = fc
  .record({
    depth: fc.integer({ min: 1, max: 4 }),
    fanout: fc.oneof(fc.integer({ min: 1, max: 4 }), fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 3, maxLength: 3 })),
    clientsPerLeaf: fc.integer({ min: 1, max: 6 }),
    workersPerCluster: fc.integer({ min: 1, max: 4 }),
  })
  // a list needs one entry per inner level; a single cluster takes a plain number (ignored)
  .map((t) => TreeSpec.parse({ ...t, fanout: !Array.isArray(t.fanout) ? t.fanout : t.depth === 1 ? 2 : t.fanout.slice(0, t.depth - 1) }));

function leaves(c: ClusterSpec): ClusterSpec[] {
  return c.clients ? [c] : (c.clusters ?? []).flatMap(leaves);
}

describe('expandTree', () => {
  it('holds as many clusters, clients and workers as treeSize says, all names distinct', () => {
    fc.assert(
      fc.property(smallTree, (tree) => {
        const cluster = expandTree(tree);
        const size = treeSize(tree);
        const counts = countCluster(cluster);
        expect(counts).toEqual({ depth: tree.depth, clusters: size.clusters, leaves: size.leaves, clients: size.clients, workers: size.workers });
        expect(clusterNodes(cluster).size).toBe(size.nodes);
        for (const leaf of leaves(cluster)) expect(leaf.clients, leaf.host).toHaveLength(tree.clientsPerLeaf);
      }),
    );
  });

  it('is deterministic and honours the name prefix', () => {
    fc.assert(
      fc.property(smallTree, fc.constantFrom('', 'east-', 'x.'), (tree, prefix) => {
        const a = expandTree(tree, prefix);
        expect(expandTree(tree, prefix)).toEqual(a);
        for (const n of clusterNodes(a)) expect(n.startsWith(prefix), n).toBe(true);
      }),
    );
  });

  it('yields clusters a manifest accepts, whose names match the job names', () => {
    fc.assert(
      fc.property(smallTree, (tree) => {
        const manifest = Manifest.parse({
          apiVersion: 'canopy/v1',
          kind: 'Job',
          name: 'J',
          model: { kind: 'logreg', inputShape: [4], numClasses: 2 },
          train: { optimizer: { kind: 'sgd', lr: 0.1 }, epochs: 1, batchSize: 8 },
          stop: { rounds: 1 },
          dataset: { source: { kind: 'mnist' } },
          cluster: expandTree(tree),
        });
        const jobs = buildJobTree(manifest).jobs;
        for (const [name, job] of jobs) {
          // job J#0_1 is hosted by host-0_1, the root J by host-r
          const path = name === 'J' ? 'r' : name.slice(2);
          expect(job.host, name).toBe(`host-${path}`);
        }
      }),
      { numRuns: 30 },
    );
  });

  it('names nodes by their cluster path', () => {
    const c = expandTree(TreeSpec.parse({ depth: 3, fanout: [2, 3], clientsPerLeaf: 18, workersPerCluster: 3 }));
    expect(c.host).toBe('host-r');
    expect(c.workers).toEqual(['w-r-0', 'w-r-1', 'w-r-2']);
    const leaf = c.clusters?.[0]?.clusters?.[1];
    expect(leaf?.host).toBe('host-0_1');
    expect(leaf?.workers[2]).toBe('w-0_1-2');
    expect(leaf?.clients?.[17]).toBe('c-0_1-17');
    expect(c.clusters?.[1]?.clusters).toHaveLength(3);
  });

  it('applies per-level timing', () => {
    const c = expandTree(TreeSpec.parse({ depth: 2, fanout: 2, clientsPerLeaf: 1, levelTiming: [{ quorum: 1 }, { localRounds: 3 }] }));
    expect(c.timing).toEqual({ quorum: 1 });
    expect(c.clusters?.map((s) => s.timing)).toEqual([{ localRounds: 3 }, { localRounds: 3 }]);
  });

  it('expands the 10,000-client benchmark tree quickly', () => {
    const tree = TreeSpec.parse({ depth: 3, fanout: 10, clientsPerLeaf: 100 });
    const t0 = performance.now();
    const c = expandTree(tree);
    const ms = performance.now() - t0;
    expect(countCluster(c).clients).toBe(10_000);
    expect(treeSize(tree)).toEqual({ clusters: 111, leaves: 100, clients: 10_000, workers: 333, nodes: 10_444 });
    expect(ms).toBeLessThan(200);
  });
});

describe('lyingWorkers', () => {
  it('picks the last k workers of every cluster', () => {
    const c = expandTree(TreeSpec.parse({ depth: 2, fanout: 2, clientsPerLeaf: 1, workersPerCluster: 3 }));
    expect([...lyingWorkers(c, 1)].sort()).toEqual(['w-0-2', 'w-1-2', 'w-r-2']);
    expect(lyingWorkers(c, 2).size).toBe(6);
    expect(lyingWorkers(c, 0).size).toBe(0);
  });
});
