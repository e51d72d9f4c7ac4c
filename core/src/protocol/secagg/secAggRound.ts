import { neighbourGraph } from './neighbours.js';
import { SecAggError } from './secAggError.js';

// What every party of one secure-aggregation round agrees on before it starts (from the job's
// manifest and the host's round state), and the data the round's four steps exchange
// (Bonawitz et al. 2017, §4; Bell et al. 2020, §3): AdvertiseKeys, ShareKeys,
// MaskedInputCollection, Unmasking.

/** The fixed parameters of one round. */
export interface SecAggRound {
  /** Binds every key, share and mask to this round of this job, e.g. `<job>|<round>`. */
  readonly context: string;
  /** k: neighbours per member in the SecAgg+ graph (>= n - 1 means everyone: plain SecAgg). */
  readonly neighbours: number;
  /** t: shares of a member's secret that reconstruct it, 2 <= t <= its number of neighbours. */
  readonly threshold: number;
  /** Seeds the graph's permutation; public, from the host's round state. */
  readonly graphSeed: number;
  /** Ring elements in every input vector. */
  readonly length: number;
}

/** AdvertiseKeys: a member's public keys for the round and its commitment to its self-mask seed. */
export interface KeyAdvert {
  readonly member: string;
  /** X25519 public key s_u^PK whose agreements seed the pairwise masks */
  readonly maskPublic: Uint8Array;
  /** X25519 public key c_u^PK whose agreements encrypt the share bundles */
  readonly sharePublic: Uint8Array;
  /** sha256(b_u), so a reconstructed self-mask seed can be checked */
  readonly selfCommit: Uint8Array;
}

/** ShareKeys: one member's encrypted pair of shares for one neighbour, relayed by the host. */
export interface SealedShares {
  readonly from: string;
  readonly to: string;
  readonly sealed: Uint8Array;
}

/** Unmasking: a share a surviving member reveals about a neighbour. */
export interface Reveal {
  readonly from: string;
  readonly about: string;
  /** 'self' (b_about; `about`'s masked input counts) or 'key' (s_about^SK; `about` dropped out) */
  readonly kind: 'self' | 'key';
  readonly share: Uint8Array;
}

/** The round's neighbour graph over the members that advertised keys (U1). */
export function roundGraph(round: SecAggRound, members: readonly string[]): Map<string, string[]> {
  return neighbourGraph(members, round.neighbours, round.graphSeed);
}

/**
 * Throws {@link SecAggError} BAD_PARAMETERS unless the round can work for these members: at
 * least 3 of them, and a threshold of at least 2 and at most every member's neighbour count.
 */
export function checkRound(round: SecAggRound, members: readonly string[]): Map<string, string[]> {
  if (members.length < 3) throw new SecAggError('BAD_PARAMETERS', `secure aggregation needs at least 3 members, got ${members.length}: with 2, each could subtract its own update from the sum`);
  if (!Number.isInteger(round.length) || round.length < 0) throw new SecAggError('BAD_PARAMETERS', `the vector length must be a non-negative integer, got ${round.length}`);
  const graph = roundGraph(round, members);
  const fewest = Math.min(...[...graph.values()].map((v) => v.length));
  if (!Number.isInteger(round.threshold) || round.threshold < 2 || round.threshold > fewest) {
    throw new SecAggError('BAD_PARAMETERS', `the threshold must be an integer from 2 to ${fewest} (the fewest neighbours a member has), got ${round.threshold}`);
  }
  return graph;
}

/** The threshold for a neighbourhood of k from a fraction in (0, 1]: ceil(fraction * k), at least 2. */
export function thresholdFor(k: number, fraction: number): number {
  return Math.min(k, Math.max(2, Math.ceil(fraction * k)));
}

/** The label both ends of a pair use for their pairwise mask seed. */
export function maskLabel(context: string, a: string, b: string): string {
  return a < b ? `mask|${context}|${a}|${b}` : `mask|${context}|${b}|${a}`;
}

/** The sign u gives its pairwise mask with v: + when u sorts first, - otherwise, so the pair cancels. */
export function maskSign(u: string, v: string): 1 | -1 {
  return u < v ? 1 : -1;
}
