import type { Manifest } from '@canopy/core/protocol';
import type { OpenedSubmission } from '@canopy/core/runtime';
import { ComputePool } from '@canopy/core/compute';
import type { FollowResult } from './jobProgress.js';
import type { NodeProcess } from './localProcesses.js';

/**
 * Who can serve a job's final model: the root host (which mirrors it, but perhaps a moment
 * after it announces the end) and the root's workers (one of which computed it).
 */
export function finalModelProviders(opened: OpenedSubmission): string[] {
  return [opened.tree.manifest.cluster.host, ...opened.tree.manifest.cluster.workers].map((m) => opened.peers.peerOf(m));
}

/**
 * Fetches a finished job's final model, retrying for a few seconds: the root host mirrors
 * the final aggregate from its workers just after it announces the end, so a request made
 * the moment the end is seen can arrive first.
 */
export async function fetchFinalModel(fetch: () => Promise<boolean>, { attempts = 20, delayMs = 500 } = {}): Promise<boolean> {
  for (let i = 0; i < attempts; i++) {
    if (await fetch()) return true;
    await new Promise((r) => setTimeout(r, delayMs));
  }
  return false;
}

/** Evaluates final parameters on the whole test split of the manifest's dataset (on a compute thread). */
export async function evaluateFinalModel(manifest: Manifest, params: Uint8Array): Promise<{ accuracy: number; loss: number; samples: number }> {
  const pool = ComputePool.start({ size: 1 });
  try {
    const d = manifest.dataset;
    // One shard of one: the whole dataset, split into train and test the way every member splits it.
    await pool.run('loadData', { key: 'eval', source: { kind: 'local', dataset: d.source, partition: { kind: 'iid' }, seed: d.seed, shard: { index: 0, of: 1 } } });
    return await pool.run('evaluate', { key: 'eval', model: manifest.model, params });
  } finally {
    await pool.stop();
  }
}

/** The `--json` summary line and a human summary. */
export function summarizeRun({ rootId, result, evaluation, procs, wallSeconds }: { rootId: string; result: FollowResult; evaluation: { accuracy: number; loss: number } | null; procs: readonly NodeProcess[]; wallSeconds: number }) {
  const num = (p: NodeProcess, k: string) => Number(p.stats?.[k] ?? 0);
  const bytesSent = procs.reduce((n, p) => n + num(p, 'gossipBytesSent') + num(p, 'blobBytesFetched'), 0);
  const messages = procs.reduce((n, p) => n + num(p, 'messagesSent'), 0);
  const rss = procs.map((p) => num(p, 'maxRssBytes')).filter((x) => x > 0);
  const m = result.root.payload.metrics;
  const accuracy = evaluation?.accuracy ?? m?.accuracy ?? null;
  const loss = evaluation?.loss ?? m?.loss ?? null;
  const overhead = controlPlaneOverhead(result, procs);
  const line = { job: rootId, rounds: result.root.round, accuracy, loss, wallSeconds: round3(wallSeconds), bytesSent, messages };
  const text = [
    `job ${rootId}: ${result.root.payload.stopReason ?? 'finished'} after ${result.root.round} rounds in ${wallSeconds.toFixed(1)} s`,
    accuracy === null ? 'no accuracy reported' : `final model on the whole test split: accuracy ${(accuracy * 100).toFixed(2)}%, loss ${loss!.toFixed(4)}${evaluation ? '' : ' (last round\'s evaluation)'}`,
    `traffic: ${messages} gossip messages, ${(bytesSent / 1e6).toFixed(1)} MB (gossip + blobs)`,
    overhead ? `control-plane overhead per round (round time not spent training or evaluating): mean ${overhead.meanSeconds.toFixed(2)} s over ${overhead.rounds} rounds (round wall mean ${overhead.meanRoundSeconds.toFixed(2)} s)` : '',
    rss.length > 0 ? `memory per node process (max RSS): mean ${(mean(rss) / 2 ** 20).toFixed(0)} MiB, max ${(Math.max(...rss) / 2 ** 20).toFixed(0)} MiB over ${rss.length} processes` : '',
  ].filter(Boolean);
  return { line, text: text.join('\n'), overhead, rss };
}

// A round's wall time (from one root training start to the next) minus the longest
// client's training plus evaluation in that round: what the protocol, the network and
// aggregation cost on top of the work itself.
function controlPlaneOverhead(result: FollowResult, procs: readonly NodeProcess[]): { meanSeconds: number; meanRoundSeconds: number; rounds: number } | undefined {
  const starts = result.roundStarts;
  const work = new Map<number, number>();
  const perClient = new Map<string, number>();
  for (const p of procs) {
    for (const t of p.tasks) {
      if (t.task !== 'train' && t.task !== 'evaluate') continue;
      const key = `${p.plan.name}:${String(t.round)}`;
      perClient.set(key, (perClient.get(key) ?? 0) + Number(t.ms));
    }
  }
  for (const [key, ms] of perClient) {
    const round = Number(key.split(':').at(-1));
    work.set(round, Math.max(work.get(round) ?? 0, ms));
  }
  const overheads: number[] = [];
  const walls: number[] = [];
  for (const [round, at] of starts) {
    const next = starts.get(round + 1) ?? (round === result.root.round ? result.root.at : undefined);
    if (next === undefined) continue;
    const wall = (next - at) / 1000;
    walls.push(wall);
    overheads.push(Math.max(0, wall - (work.get(round) ?? 0) / 1000));
  }
  if (overheads.length === 0) return undefined;
  return { meanSeconds: mean(overheads), meanRoundSeconds: mean(walls), rounds: overheads.length };
}

function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
