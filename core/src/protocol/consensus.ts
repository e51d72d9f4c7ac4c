import type { ConsensusRule } from './manifest.js';

// Step 7: the consensus rule picks a round's aggregate by hash. Honest workers aggregate
// the same inputs in the same order and so produce identical bytes; a hash reported by
// enough of them wins. `majority_2_3` tolerates fewer than a third of workers lying.

/** The outcome of counting the votes so far. */
export type ConsensusOutcome =
  | { readonly kind: 'picked'; readonly hash: string; readonly votes: number }
  | { readonly kind: 'pending' }
  | { readonly kind: 'failed'; readonly reason: string };

/** Votes needed among `n` workers for a hash to win. */
export function votesNeeded(rule: ConsensusRule, n: number): number {
  if (rule === 'single') return 1;
  if (rule === 'unanimous') return n;
  return Math.ceil((2 * n) / 3);
}

/**
 * Decides consensus among `workers` (sorted ids; the electorate of this attempt) given
 * their `votes` (worker → aggregate hash). With `closed` false the deadline has not
 * passed, so a missing vote may still come; with `closed` true it will not.
 */
export function decideConsensus(rule: ConsensusRule, workers: readonly string[], votes: ReadonlyMap<string, string>, closed: boolean): ConsensusOutcome {
  const n = workers.length;
  if (n === 0) return { kind: 'failed', reason: 'no workers left to aggregate' };
  if (rule === 'single') {
    // The first worker in id order is trusted; if it is silent at the deadline, the next one that answered.
    for (const w of workers) {
      const h = votes.get(w);
      if (h !== undefined) return { kind: 'picked', hash: h, votes: 1 };
      if (!closed) return { kind: 'pending' };
    }
    return { kind: 'failed', reason: 'no worker sent an aggregate' };
  }
  const counts = new Map<string, number>();
  let voted = 0;
  for (const w of workers) {
    const h = votes.get(w);
    if (h === undefined) continue;
    voted++;
    counts.set(h, (counts.get(h) ?? 0) + 1);
  }
  const need = votesNeeded(rule, n);
  let best: [string, number] | undefined;
  for (const [h, c] of counts) if (!best || c > best[1] || (c === best[1] && h < best[0])) best = [h, c];
  if (best && best[1] >= need) return { kind: 'picked', hash: best[0], votes: best[1] };
  const missing = n - voted;
  if (closed || (best?.[1] ?? 0) + missing < need) {
    return {
      kind: 'failed',
      reason: `${rule}: best aggregate had ${best?.[1] ?? 0} of ${need} votes needed from ${n} workers (${counts.size} distinct, ${missing} missing)`,
    };
  }
  return { kind: 'pending' };
}
