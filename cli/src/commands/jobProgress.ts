import { reachedStopCondition } from '@canopy/core/protocol';
import type { ObservedState, OpenedSubmission, JobObserver } from '@canopy/core/runtime';
import { AbortedError } from '@canopy/core/util';
import type { Output, Progress } from '../output.js';
import { ROOT_HOST_SILENT_MS, SilenceTracker, formatSilence, type SilenceNotice } from './rootHostSilence.js';

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

/** The line that tells the user about a root host's silence, or its end. */
export function describeSilence(opened: OpenedSubmission, notice: SilenceNotice, last: ObservedState | undefined): string {
  const host = opened.tree.manifest.cluster.host;
  const peer = opened.peers.peerOf(host);
  const who = host === peer ? `root host ${peer}` : `root host ${host} (${peer})`;
  if (notice.kind === 'back') return `${who} is heard from again, after ${formatSilence(notice.ms)} of silence`;
  const at = last ? ` (last seen at round ${last.round}, ${STAGES[last.payload.processStage]})` : '';
  return `${who} not heard from for ${formatSilence(notice.ms)}${at}; it may have stopped, or this peer lost its way to it`;
}

/** What the caller of {@link followJob} hands it besides the job. */
export interface FollowOptions {
  readonly signal?: AbortSignal;
  /** Silence of the root host after which a warning is printed (default {@link ROOT_HOST_SILENT_MS}). */
  readonly silentAfterMs?: number;
}

/**
 * Follows a job until its root host publishes stage 3, showing a progress bar over the
 * rounds (with the last evaluated accuracy) on stderr, and a warning line whenever the root
 * host has not been heard from for a while (and a line when it is heard again).
 */
export async function followJob(observer: JobObserver, opened: OpenedSubmission, out: Output, { signal, silentAfterMs = ROOT_HOST_SILENT_MS }: FollowOptions = {}): Promise<FollowResult> {
  const { tree, peers } = opened;
  const total = tree.manifest.stop.rounds;
  const roundStarts = new Map<number, number>();
  const rootPeer = peers.peerOf(tree.manifest.cluster.host);
  const silence = new SilenceTracker(Date.now(), silentAfterMs);
  let bar: Progress | undefined;
  return new Promise<FollowResult>((resolve, reject) => {
    const ticker = setInterval(() => {
      const notice = silence.check(observer.rootHostHeardAt(tree.rootId, rootPeer), Date.now());
      if (!notice) return;
      const line = describeSilence(opened, notice, observer.states.get(tree.root));
      const text = notice.kind === 'silent' ? `warning: ${line}` : line;
      if (bar) bar.note(text);
      else process.stderr.write(`${text}\n`);
    }, 1000);
    const settle = () => {
      clearInterval(ticker);
      signal?.removeEventListener('abort', onAbort);
    };
    const onAbort = () => {
      settle();
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
      // A job that ended without reaching its stop condition stops the bar where it was.
      const done = p.processStage === 3 && reachedStopCondition(p.stopReason) ? total : Math.max(0, p.processStage === 3 ? s.round : s.round - 1);
      bar?.update(Math.min(done, total), `round ${s.round} ${STAGES[p.processStage]} ${acc}`.trim());
      if (p.processStage === 3) {
        settle();
        bar?.stop();
        resolve({ root: s, roundStarts });
      }
    });
    // A job that finished before we subscribed is only seen in its announcements.
    const seen = observer.latest(tree.rootId);
    if (seen?.announce.processStage === 3) out.say(`job ${tree.root} had already finished`);
  });
}
