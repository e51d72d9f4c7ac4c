import type { JobTree } from './jobTree.js';

// Timing a manifest may legally have but that makes a tree fragile. A secondary job retries a
// round that missed its quorum after `roundDeadlineSeconds` (PROTOCOL.md §6.2); its parent's
// training stage started at about the same moment and has its own deadline. If the parent
// does not wait longer than the child's whole round, the parent's deadline fires together
// with the child's first one, and one silent client in the sub-cluster costs the root round.
// Timing is inherited, so a manifest that sets one deadline at the top gives every level the
// same one: the common case this catches.

/** One parent whose deadline leaves its sub-jobs no time to retry a round. */
export interface TimingAdvice {
  readonly job: string;
  /** The parent's round deadline, seconds. */
  readonly deadlineSeconds: number;
  /** The longest of its sub-jobs' rounds, seconds: deadline × localRounds. */
  readonly childRoundSeconds: number;
  /** How many of its sub-jobs take that long or longer than the parent waits. */
  readonly children: number;
}

/** Every parent job whose round deadline is not longer than a sub-job's round (deadline × localRounds), in tree order. */
export function timingAdvice(tree: JobTree): TimingAdvice[] {
  const out: TimingAdvice[] = [];
  for (const node of tree.jobs.values()) {
    if (node.leaf) continue;
    const deadline = node.timing.roundDeadlineSeconds;
    let longest = 0;
    let children = 0;
    for (const name of node.children) {
      const child = tree.jobs.get(name)!;
      const round = child.timing.roundDeadlineSeconds * child.timing.localRounds;
      if (round < deadline) continue;
      children++;
      longest = Math.max(longest, round);
    }
    if (children > 0) out.push({ job: node.name, deadlineSeconds: deadline, childRoundSeconds: longest, children });
  }
  return out;
}

/**
 * {@link timingAdvice} as lines for a person: one per parent, at most `limit` of them and a
 * count of the rest. Empty when the timing is sound.
 */
export function timingWarnings(tree: JobTree, limit = 3): string[] {
  const advice = timingAdvice(tree);
  const lines = advice.slice(0, limit).map(
    (a) =>
      `timing: cluster ${a.job} waits ${a.deadlineSeconds} s per round, and ${a.children === 1 ? 'a sub-cluster' : `${a.children} sub-clusters`} may take ` +
      `${a.childRoundSeconds} s (roundDeadlineSeconds × localRounds): a sub-cluster whose round runs to its deadline is given up on before it can retry. ` +
      `Give ${a.job} a roundDeadlineSeconds of ${2 * a.childRoundSeconds} s or more, and its sub-clusters timing of their own, since timing is inherited.`,
  );
  if (advice.length > limit) lines.push(`timing: ${advice.length - limit} more cluster(s) like these`);
  return lines;
}
