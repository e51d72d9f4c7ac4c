import { describe, expect, it } from 'vitest';
import { buildJobTree } from './jobTree.js';
import { validateManifest, type Manifest } from './manifest.js';
import { treeManifest } from './test/fixtures.js';
import { timingAdvice, timingWarnings } from './timingAdvice.js';

// `treeManifest` sets one deadline (10 s) at the top, which every level inherits.
function withTiming(m: Manifest, perCluster: Record<string, Manifest['timing']>): Manifest {
  const input = structuredClone(m) as unknown as { cluster: Record<string, unknown> };
  const visit = (c: Record<string, unknown>, path: string) => {
    if (perCluster[path]) c.timing = perCluster[path];
    (c.clusters as Record<string, unknown>[] | undefined)?.forEach((sub, i) => visit(sub, `${path}.${i}`));
  };
  visit(input.cluster, 'root');
  return validateManifest(input);
}

describe('timingAdvice', () => {
  const shape = [[2, 1], [3]];

  it('flags every parent when one inherited deadline rules every level', () => {
    const tree = buildJobTree(treeManifest(shape));
    expect(timingAdvice(tree)).toEqual([
      { job: 'J', deadlineSeconds: 10, childRoundSeconds: 10, children: 2 },
      { job: 'J#0', deadlineSeconds: 10, childRoundSeconds: 10, children: 2 },
      { job: 'J#1', deadlineSeconds: 10, childRoundSeconds: 10, children: 1 },
    ]);
  });

  it('is silent when each parent waits longer than its sub-clusters, as the scale scenarios do', () => {
    const tree = buildJobTree(withTiming(treeManifest(shape), { root: { roundDeadlineSeconds: 40 }, 'root.0': { roundDeadlineSeconds: 20 }, 'root.1': { roundDeadlineSeconds: 20 }, 'root.0.0': { roundDeadlineSeconds: 10 }, 'root.0.1': { roundDeadlineSeconds: 10 }, 'root.1.0': { roundDeadlineSeconds: 10 } }));
    expect(timingAdvice(tree)).toEqual([]);
    expect(timingWarnings(tree)).toEqual([]);
    expect(timingAdvice(buildJobTree(treeManifest(5)))).toEqual([]);
  });

  it('counts a sub-cluster\'s local rounds: three 10 s rounds do not fit in a parent\'s 25 s', () => {
    const tree = buildJobTree(withTiming(treeManifest([2, 2]), { root: { roundDeadlineSeconds: 25 }, 'root.0': { roundDeadlineSeconds: 10 }, 'root.1': { roundDeadlineSeconds: 10, localRounds: 3 } }));
    expect(timingAdvice(tree)).toEqual([{ job: 'J', deadlineSeconds: 25, childRoundSeconds: 30, children: 1 }]);
  });

  it('says which cluster to change and by how much, a few lines at most', () => {
    const tree = buildJobTree(treeManifest(shape));
    const lines = timingWarnings(tree, 2);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toBe(
      'timing: cluster J waits 10 s per round, and 2 sub-clusters may take 10 s (roundDeadlineSeconds × localRounds): a sub-cluster whose round runs to its deadline is given up on before it can retry. Give J a roundDeadlineSeconds of 20 s or more, and its sub-clusters timing of their own, since timing is inherited.',
    );
    expect(lines[2]).toBe('timing: 1 more cluster(s) like these');
  });
});
