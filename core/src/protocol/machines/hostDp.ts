import type { Ctx } from '../ctx.js';
import { RdpAccountant } from '../dp/rdp.js';
import { noiseKeyPair } from '../dp/noiseKey.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import type { HostState } from './hostState.js';

// PROTOCOL.md §6.14: what the host of a DP cluster adds to a round. It holds the noise key
// its workers derive each round's noise from, and the RDP account of the rounds its clients
// took part in: one step of the sampled Gaussian mechanism per round whose training closed.

/** Draws the host's X25519 key pair and the job's noise key, once (a restored host keeps its own). */
export function drawDpKeys(s: HostState, ctx: Ctx): void {
  const dp = s.dp;
  if (!dp || dp.noiseKey) return;
  const pair = noiseKeyPair(ctx.secretBytes(32));
  dp.hostSecret = pair.secretKey;
  dp.hostPublic = pair.publicKey;
  dp.noiseKey = bytesToHex(ctx.secretBytes(32));
}

/** A worker's heartbeat named its public key: keep it (a new key is sealed anew). */
export function noteWorkerNoiseKey(s: HostState, worker: string, publicKey: string | undefined): void {
  const dp = s.dp;
  if (!dp || publicKey === undefined || dp.workerKeys.get(worker)?.publicKey === publicKey) return;
  dp.workerKeys.set(worker, { publicKey, sealed: null });
}

/** ε for the manifest's δ after the given sampling rates, one step each at the manifest's σ. */
export function epsilonAfter(s: HostState, rates: readonly number[]): number {
  const p = s.sheet.privacy!.dp;
  const acc = new RdpAccountant();
  for (const q of rates) acc.compose(q, p.noiseMultiplier);
  return acc.epsilon(p.delta);
}

/**
 * The budget check before a round trains: the reason to stop when this round, at the rate just
 * drawn, would take ε above `privacy.dp.budget`; null when it may run.
 */
export function budgetStop(s: HostState): string | null {
  const dp = s.dp;
  const budget = s.sheet.privacy?.dp.budget;
  if (!dp || budget === undefined) return null;
  const next = epsilonAfter(s, [...dp.rates, dp.rate]);
  if (next <= budget) return null;
  const spent = dp.rates.length === 0 ? 0 : epsilonAfter(s, dp.rates);
  return `privacy budget: ${s.job} has spent ε=${spent.toFixed(3)} (δ=${s.sheet.privacy!.dp.delta}) over ${dp.rates.length} rounds; one more would reach ε=${next.toFixed(3)} > budget ${budget}`;
}
