import { hash32 } from '../util/rng.js';
import type { SampleRule } from './messages/index.js';

// Per-round client sampling (DESIGN.md, "per-round client sampling"). A host cannot list
// 10,000 sampled clients in every snapshot, so it publishes a seed and a threshold instead:
// client c trains iff sampleScore(seed, c) <= threshold. Every client can check this alone,
// and the host picks the threshold so that exactly k of the eligible clients pass.

/** A client's score for a round's seed: a well-mixed 32-bit hash of seed and id. */
export function sampleScore(seed: number, client: string): number {
  // FNV-1a alone mixes short, similar ids poorly; murmur3's finaliser spreads the bits.
  let h = hash32(`${seed}:${client}`);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Whether a client is sampled by a rule (what each client checks). */
export function isSampled(rule: SampleRule, client: string): boolean {
  if (rule.only !== undefined) return rule.only === client;
  return sampleScore(rule.seed, client) <= rule.threshold;
}

/**
 * A sequential cluster's pick (PROTOCOL.md §6.3): round `position` (0-based within the
 * cluster's cycle; retries add their attempt) belongs to `order[position mod n]`; if that
 * client is not eligible, the turn passes to the next eligible one in the listed order.
 * Undefined when no client is eligible.
 */
export function sequentialPick(order: readonly string[], eligible: ReadonlySet<string>, position: number): string | undefined {
  const n = order.length;
  for (let i = 0; i < n; i++) {
    const c = order[(((position + i) % n) + n) % n]!;
    if (eligible.has(c)) return c;
  }
  return undefined;
}

/** How many of `eligible` clients a round samples: a fraction, at least one. */
export function sampleSize(eligible: number, fraction: number): number {
  if (eligible === 0) return 0;
  return Math.min(eligible, Math.max(1, Math.ceil(fraction * eligible - 1e-9)));
}

/**
 * Draws a sample of `k` eligible clients: a seed from the rng and the threshold that lets
 * exactly the k lowest scores pass (ties, astronomically rare, may let one more pass).
 */
export function drawSample(eligible: readonly string[], k: number, seed: number): { rule: SampleRule; sampled: Set<string> } {
  if (k <= 0 || eligible.length === 0) return { rule: { seed, threshold: 0 }, sampled: new Set() };
  if (k >= eligible.length) return { rule: { seed, threshold: 0xffffffff }, sampled: new Set(eligible) };
  const scores = eligible.map((c) => sampleScore(seed, c)).sort((a, b) => a - b);
  const threshold = scores[k - 1]!;
  const sampled = new Set(eligible.filter((c) => sampleScore(seed, c) <= threshold));
  return { rule: { seed, threshold }, sampled };
}
