import { bytesToHex } from '@noble/hashes/utils.js';
import { agreeKey, commitSeed, publicKeyOf } from './keys.js';
import { applyMask } from './prg.js';
import { ringAdd } from './ring.js';
import { SecAggError } from './secAggError.js';
import { checkRound, maskLabel, maskSign, type KeyAdvert, type Reveal, type SecAggRound } from './secAggRound.js';
import { reconstructSecret } from './shares.js';

// The server's side of one SecAgg+ round (Bonawitz et al. 2017, §4, rounds 2 and 4): the
// workers add the masked inputs of U3 in the ring, then the masks are removed with the secrets
// the survivors' shares reconstruct. Every step is deterministic, so every honest worker that
// is given the same reveals gets the same bytes.

/**
 * The ring sum of the masked inputs, in member order. Throws {@link SecAggError}
 * BAD_MASKED_INPUT for a vector of the wrong length.
 */
export function sumMasked(round: SecAggRound, masked: ReadonlyMap<string, Uint32Array>): Uint32Array {
  const acc = new Uint32Array(round.length);
  for (const m of [...masked.keys()].sort()) {
    const y = masked.get(m)!;
    if (y.length !== round.length) throw new SecAggError('BAD_MASKED_INPUT', `${m}'s masked input has ${y.length} elements, the round ${round.length}`, { member: m });
    ringAdd(acc, y);
  }
  return acc;
}

/** The outcome of unmasking: the sum of U3's inputs, and the reveals that were set aside. */
export interface Unmasked {
  readonly sum: Uint32Array;
  readonly rejected: readonly SecAggError[];
}

/**
 * Step 3's server half: removes every mask from `maskedSum` (the ring sum of U3's masked
 * inputs), leaving the ring sum of U3's inputs. For each v in U3 it reconstructs b_v from
 * `self` reveals and checks it against v's commitment; for each v in U2 \ U3 it reconstructs
 * s_v^SK from `key` reveals, checks it against v's advertised key and removes the pairwise
 * masks v's surviving neighbours added. A reveal from a non-neighbour, from outside U3, of the
 * wrong kind or repeated is set aside (`rejected`); a wrong share can stop a reconstruction but
 * not change it. Fewer valid shares than the threshold for any member throws
 * {@link SecAggError} BELOW_THRESHOLD: the round fails, it never yields a wrong sum.
 */
export async function unmaskSum(round: SecAggRound, adverts: readonly KeyAdvert[], sharedBy: readonly string[], maskedBy: readonly string[], maskedSum: Uint32Array, reveals: readonly Reveal[]): Promise<Unmasked> {
  const byMember = new Map(adverts.map((a) => [a.member, a]));
  const graph = checkRound(round, [...byMember.keys()]);
  const u2 = new Set(sharedBy);
  const u3 = new Set(maskedBy);
  for (const m of u2) if (!byMember.has(m)) throw new SecAggError('BAD_PARAMETERS', `${m} shared keys but advertised none`);
  for (const m of u3) if (!u2.has(m)) throw new SecAggError('BAD_PARAMETERS', `${m} is listed as masked but not as having shared its keys`);
  if (maskedSum.length !== round.length) throw new SecAggError('BAD_MASKED_INPUT', `the masked sum has ${maskedSum.length} elements, the round ${round.length}`);

  const rejected: SecAggError[] = [];
  const sharesAbout = new Map<string, Uint8Array[]>();
  const seen = new Set<string>();
  for (const r of reveals) {
    const why = revealProblem(r, graph, u2, u3, seen);
    if (why) {
      rejected.push(new SecAggError('BAD_SHARE', `reveal from ${r.from} about ${r.about}: ${why}`, { member: r.from }));
      continue;
    }
    seen.add(`${r.from}>${r.about}`);
    const list = sharesAbout.get(r.about) ?? [];
    list.push(r.share);
    sharesAbout.set(r.about, list);
  }

  const sum = maskedSum.slice();
  for (const v of [...u2].sort()) {
    const shares = sharesAbout.get(v) ?? [];
    const advert = byMember.get(v)!;
    if (u3.has(v)) {
      const commit = bytesToHex(advert.selfCommit);
      const b = await reconstructSecret(shares, round.threshold, (s) => bytesToHex(commitSeed(s)) === commit, `the self-mask seed of ${v}`);
      applyMask(sum, b, -1);
    } else {
      const survivors = graph.get(v)!.filter((u) => u3.has(u));
      // nobody who counts masked with v: nothing to remove, nothing to reveal
      if (survivors.length === 0) continue;
      const pk = bytesToHex(advert.maskPublic);
      const sk = await reconstructSecret(shares, round.threshold, (s) => bytesToHex(publicKeyOf(s)) === pk, `the mask key of ${v}, who dropped out`);
      for (const u of survivors) {
        // u added sign(u, v) * PRG(s_u,v); take it away
        const seed = agreeKey(sk, byMember.get(u)!.maskPublic, maskLabel(round.context, u, v));
        applyMask(sum, seed, maskSign(u, v) === 1 ? -1 : 1);
      }
    }
  }
  return { sum, rejected };
}

function revealProblem(r: Reveal, graph: Map<string, string[]>, u2: Set<string>, u3: Set<string>, seen: Set<string>): string | undefined {
  // Unmasking: only survivors answer, each about a neighbour it holds shares of, once
  if (!u3.has(r.from)) return 'the sender is not a survivor of this round';
  if (!u2.has(r.about)) return `${r.about} shared no keys this round`;
  if (!graph.get(r.about)?.includes(r.from)) return 'the two are not neighbours';
  if (seen.has(`${r.from}>${r.about}`)) return 'a second reveal for the same member';
  // the rule that keeps inputs hidden: b of a survivor, s^SK of a dropout, never the other way
  const expected = u3.has(r.about) ? 'self' : 'key';
  if (r.kind !== expected) return `a '${r.kind}' share where only '${expected}' may be revealed`;
  return undefined;
}
