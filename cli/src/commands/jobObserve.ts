import type { Heard, OpenedSubmission } from '@canopy/core/runtime';
import { reachedStopCondition } from '@canopy/core/protocol';
import { CanopyError, ErrorCode, JobFailedError } from '@canopy/core/util';
import { warn, type Output } from '../output.js';
import { startClientPeer, peersFrom, type ClientPeer } from './clientPeer.js';
import { describeSilence, describeTree, followJob } from './jobProgress.js';
import { SilenceTracker, formatSilence } from './rootHostSilence.js';

// `canopy job status` and `canopy job watch`: an observer peer finds a job by its
// announcements and reads its hosts' snapshots, and says so when the root host falls silent.

const STAGES = ['idle', 'training', 'aggregating', 'finished'];

/** Flags of `canopy job status`. */
export interface StatusFlags {
  readonly peer?: string[];
  readonly wait: number;
  readonly json: boolean;
}

/** `canopy job status`: the tree's stages, rounds and accuracy, and how long ago the root host spoke. */
export async function jobStatus(query: string, flags: StatusFlags, out: Output): Promise<void> {
  const peer = await startClientPeer(peersFrom(flags.peer));
  try {
    const findMs = flags.wait * 1000 + 10_000;
    const { announce, opened } = await findJob(peer, query, AbortSignal.timeout(findMs)).catch((err: unknown) => {
      if (err instanceof CanopyError && err.code === ErrorCode.Network) throw err;
      throw new CanopyError(ErrorCode.Network, `no announcement of job ${query} reached this peer within ${formatSilence(findMs)}: its root host has not been heard from. Check the name, and that the root host is running and reachable from --peer`);
    });
    const rootPeer = opened.peers.peerOf(opened.tree.manifest.cluster.host);
    const heardAt = () => peer.observer.rootHostHeardAt(opened.tree.rootId, rootPeer) ?? 0;
    peer.observer.follow(opened);
    const gatherFrom = Date.now();
    const deadline = gatherFrom + flags.wait * 1000;
    const states = peer.observer.states;
    // Gather until every job's host has spoken (or the root's finished one has), and the
    // root host has been heard during the gathering; a silent root host keeps it to --wait.
    while (Date.now() < deadline && (((announce.processStage !== 3 || states.size === 0) && states.size < opened.tree.jobs.size) || heardAt() < gatherFrom)) await sleep(250);
    const silentMs = Date.now() - heardAt();
    const latest = peer.observer.latest(opened.tree.rootId)?.announce ?? announce;
    out.say(`job ${opened.tree.root} (${opened.tree.rootId}), submitted by ${opened.submission.submitter}`);
    out.say(`root: round ${latest.round}, stage ${latest.processStage}${latest.metrics ? `, accuracy ${(latest.metrics.accuracy * 100).toFixed(2)}%` : ''}${latest.stopReason ? `, ${latest.stopReason}` : ''}`);
    // Two announcement periods without a word, over a gathering that lasted that long.
    const silent = heardAt() < gatherFrom && Date.now() - gatherFrom >= 4_000;
    if (silent) out.say(describeSilence(opened, { kind: 'silent', ms: silentMs }, states.get(opened.tree.root)));
    for (const line of describeTree(opened, states)) out.say(line);
    out.record({
      announce: latest,
      rootHost: { member: opened.tree.manifest.cluster.host, peerId: rootPeer, lastHeardSecondsAgo: Math.floor(silentMs / 1000), silent },
      jobs: Object.fromEntries([...states].map(([k, v]) => [k, { round: v.round, ...v.payload }])),
    });
  } finally {
    await peer.stop();
  }
}

/** Flags of `canopy job watch`. */
export interface WatchFlags {
  readonly peer?: string[];
  readonly json: boolean;
  readonly timeout?: number;
}

/** `canopy job watch`: follows a job to its end, warns when the root host falls silent, gives up at --timeout. */
export async function jobWatch(query: string, flags: WatchFlags, out: Output): Promise<void> {
  const timedOut = flags.timeout !== undefined ? AbortSignal.timeout(flags.timeout * 1000) : undefined;
  const interrupted = new AbortController();
  const signal = timedOut ? AbortSignal.any([interrupted.signal, timedOut]) : interrupted.signal;
  const onSigint = () => interrupted.abort();
  process.once('SIGINT', onSigint);
  let peer: ClientPeer | undefined;
  let opened: OpenedSubmission | undefined;
  try {
    peer = await startClientPeer(peersFrom(flags.peer), flags.timeout !== undefined ? { connectTimeoutMs: Math.min(20_000, flags.timeout * 1000) } : {});
    const found = await findJob(peer, query, signal);
    opened = found.opened;
    const { announce } = found;
    if (announce.processStage === 3) {
      out.say(`job ${opened.tree.root} finished: ${announce.stopReason ?? ''}`);
      out.record({ rootId: announce.rootId, rounds: announce.round, accuracy: announce.metrics?.accuracy ?? null, loss: announce.metrics?.loss ?? null, stopReason: announce.stopReason });
      if (!reachedStopCondition(announce.stopReason)) throw new JobFailedError(announce.rootId, announce.stopReason ?? 'ended without a reason');
      return;
    }
    const r = await followJob(peer.observer, opened, out, { signal });
    const m = r.root.payload.metrics;
    out.say(`job ${opened.tree.root} finished after round ${r.root.round}: ${r.root.payload.stopReason ?? ''}${m ? `; last evaluated accuracy ${(m.accuracy * 100).toFixed(2)}%` : ''}`);
    out.record({ rootId: opened.tree.rootId, rounds: r.root.round, accuracy: m?.accuracy ?? null, loss: m?.loss ?? null, stopReason: r.root.payload.stopReason });
    if (!reachedStopCondition(r.root.payload.stopReason)) throw new JobFailedError(opened.tree.rootId, r.root.payload.stopReason ?? 'ended without a reason');
  } catch (err) {
    if (timedOut?.aborted) throw new CanopyError(ErrorCode.Timeout, `gave up watching job ${query} after --timeout ${flags.timeout} s: ${whereItWas(peer, opened)}`);
    throw err;
  } finally {
    process.off('SIGINT', onSigint);
    await peer?.stop();
  }
}

/** The last thing known of a job when a watch gives up. */
function whereItWas(peer: ClientPeer | undefined, opened: OpenedSubmission | undefined): string {
  if (!peer) return 'no peer of the cluster answered';
  if (!opened) return 'no announcement of it reached this peer; check the name, and that its root host is running and reachable from --peer';
  const { tree, peers } = opened;
  const root = peer.observer.states.get(tree.root);
  const at = root ? `round ${root.round} of ${tree.manifest.stop.rounds} (${STAGES[root.payload.processStage]})` : `setup (no snapshot of ${tree.root} yet)`;
  const heardAt = peer.observer.rootHostHeardAt(tree.rootId, peers.peerOf(tree.manifest.cluster.host));
  const heard = heardAt === undefined ? 'its root host was never heard from' : `its root host was last heard from ${formatSilence(Date.now() - heardAt)} ago`;
  return `it was at ${at}; ${heard}`;
}

/**
 * Finds a job by its announcements, with a warning on stderr each time the wait has gone on
 * for a while (as long as a root host's silence before it is reported, then as it doubles).
 */
async function findJob(peer: ClientPeer, query: string, signal: AbortSignal): Promise<Heard & { opened: OpenedSubmission }> {
  const silence = new SilenceTracker(Date.now());
  const ticker = setInterval(() => {
    const notice = silence.check(undefined, Date.now());
    if (notice) warn(`no announcement of job ${query} heard yet after ${formatSilence(notice.ms)}; check the name, and that its root host is running and reachable from --peer`);
  }, 1000);
  try {
    return await peer.observer.find(query, { signal });
  } finally {
    clearInterval(ticker);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
