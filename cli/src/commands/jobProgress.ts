import type { ObservedState, OpenedSubmission, JobObserver } from '@canopy/core/runtime';
import { AbortedError } from '@canopy/core/util';
import type { Output, Progress } from '../output.js';

const STAGES = ['idle', 'training', 'aggregating', 'finished'];

/** One line per job of the tree: its stage, round and last metrics. */
export function describeTree(opened: OpenedSubmission, states: ReadonlyMap<string, ObservedState>): string[] {
  const lines: string[] = [];
  for (const node of opened.tree.jobs.values()) {
    const s = states.get(node.name);
    const indent = '  '.repeat(node.depth);
    if (!s) {
      lines.push(`${indent}${node.name}  (no snapshot from host ${node.host} yet)`);
      continue;
    }
    const p = s.payload;
    const setup = p.processStage === 0 && !p.stopReason ? ` setup: sheets ${p.clientStage >= 1 ? 'ok' : '…'}, data ${p.clientStage >= 2 ? 'ok' : p.datasetFlag ? '…' : '-'}` : '';
    const local = node.parent !== undefined && p.parentRound > 0 ? ` (parent round ${p.parentRound}, local ${p.localRound})` : '';
    const m = p.metrics ? `  accuracy ${(p.metrics.accuracy * 100).toFixed(2)}%  loss ${p.metrics.loss.toFixed(4)}` : '';
    lines.push(`${indent}${node.name}  round ${s.round}${local}  ${STAGES[p.processStage]}${setup}${m}${p.stopReason ? `  (${p.stopReason})` : ''}`);
  }
  return lines;
}

/** The outcome of following a job to its end. */
export interface FollowResult {
  readonly root: ObservedState;
  /** When each root round started training (ms since epoch), by round. */
  readonly roundStarts: ReadonlyMap<number, number>;
}

/**
 * Follows a job until its root host publishes stage 3, showing a progress bar over the
 * rounds (with the last evaluated accuracy) on stderr.
 */
export async function followJob(observer: JobObserver, opened: OpenedSubmission, out: Output, { signal }: { signal?: AbortSignal } = {}): Promise<FollowResult> {
  const { tree } = opened;
  const total = tree.manifest.stop.rounds;
  const roundStarts = new Map<number, number>();
  let bar: Progress | undefined;
  return new Promise<FollowResult>((resolve, reject) => {
    const onAbort = () => {
      bar?.stop();
      reject(new AbortedError(`following job ${tree.root}`));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    observer.follow(opened, (s) => {
      if (s.job !== tree.root) return;
      const p = s.payload;
      if (p.processStage === 1 && !roundStarts.has(s.round)) roundStarts.set(s.round, s.at);
      if (!bar && p.processStage >= 1) bar = out.progress(`${tree.root} rounds`, total);
      const acc = p.metrics ? `accuracy ${(p.metrics.accuracy * 100).toFixed(2)}%` : '';
      const done = p.processStage === 3 ? total : Math.max(0, s.round - 1);
      bar?.update(Math.min(done, total), `round ${s.round} ${STAGES[p.processStage]} ${acc}`.trim());
      if (p.processStage === 3) {
        bar?.stop();
        signal?.removeEventListener('abort', onAbort);
        resolve({ root: s, roundStarts });
      }
    });
    // A job that finished before we subscribed is only seen in its announcements.
    const seen = observer.latest(tree.rootId);
    if (seen?.announce.processStage === 3) out.say(`job ${tree.root} had already finished`);
  });
}
