import { agreeKey, commitSeed, keyPairFromSeed, type KeyPair } from './keys.js';
import { applyMask } from './prg.js';
import { SecAggError } from './secAggError.js';
import { checkRound, maskLabel, maskSign, type KeyAdvert, type Reveal, type SealedShares, type SecAggRound } from './secAggRound.js';
import { openShares, sealShares, splitSecret } from './shares.js';

// A client's side of one SecAgg+ round (Bonawitz et al. 2017, §4, with Bell et al. 2020's
// neighbour graph). Pure: the randomness comes in as bytes, and the only state is the secrets
// returned by the first step.

/** What a client keeps secret for one round. */
export interface SecAggSecrets {
  readonly member: string;
  /** s_u: its agreements seed the pairwise masks */
  readonly mask: KeyPair;
  /** c_u: its agreements encrypt the share bundles */
  readonly share: KeyPair;
  /** b_u: seeds the self-mask */
  readonly selfSeed: Uint8Array;
}

/** Bytes of randomness {@link advertiseKeys} takes: two secret keys and a seed. */
export const SECRET_RANDOM_BYTES = 96;

/**
 * Step 0, AdvertiseKeys: fresh secrets from 96 bytes of cryptographic randomness, and the
 * advertisement the client publishes.
 */
export function advertiseKeys(member: string, randomness: Uint8Array): { secrets: SecAggSecrets; advert: KeyAdvert } {
  if (randomness.length !== SECRET_RANDOM_BYTES) throw new SecAggError('BAD_PARAMETERS', `advertiseKeys takes ${SECRET_RANDOM_BYTES} random bytes, got ${randomness.length}`);
  const mask = keyPairFromSeed(randomness.slice(0, 32));
  const share = keyPairFromSeed(randomness.slice(32, 64));
  const selfSeed = randomness.slice(64, 96);
  return {
    secrets: { member, mask, share, selfSeed },
    advert: { member, maskPublic: mask.publicKey, sharePublic: share.publicKey, selfCommit: commitSeed(selfSeed) },
  };
}

function neighboursOf(round: SecAggRound, member: string, adverts: readonly KeyAdvert[]): { nbrs: string[]; byMember: Map<string, KeyAdvert> } {
  const byMember = new Map(adverts.map((a) => [a.member, a]));
  const graph = checkRound(round, [...byMember.keys()]);
  const nbrs = graph.get(member);
  if (!nbrs) throw new SecAggError('BAD_PARAMETERS', `${member} is not among the members that advertised keys`);
  return { nbrs, byMember };
}

/**
 * Step 1, ShareKeys: splits s_u^SK and b_u into one share pair per neighbour (threshold t) and
 * seals each for its neighbour. `adverts` is U1, every advertisement the host accepted.
 */
export async function shareKeys(round: SecAggRound, secrets: SecAggSecrets, adverts: readonly KeyAdvert[]): Promise<SealedShares[]> {
  const { nbrs, byMember } = neighboursOf(round, secrets.member, adverts);
  const keyShares = await splitSecret(secrets.mask.secretKey, nbrs.length, round.threshold);
  const selfShares = await splitSecret(secrets.selfSeed, nbrs.length, round.threshold);
  return nbrs.map((to, i) => ({
    from: secrets.member,
    to,
    sealed: sealShares(round.context, secrets.member, to, secrets.share.secretKey, byMember.get(to)!.sharePublic, { keyShare: keyShares[i]!, selfShare: selfShares[i]! }),
  }));
}

/**
 * Step 2, MaskedInputCollection: y_u = x_u + PRG(b_u) + sum over neighbours v in U2 of
 * sign(u, v) * PRG(s_u,v), in the ring. `sharedBy` is U2, the members whose shares the host
 * delivered; the client must be one of them.
 */
export function maskInput(round: SecAggRound, secrets: SecAggSecrets, adverts: readonly KeyAdvert[], sharedBy: readonly string[], input: Uint32Array): Uint32Array {
  if (input.length !== round.length) throw new SecAggError('BAD_MASKED_INPUT', `the input has ${input.length} elements, the round ${round.length}`);
  const { nbrs, byMember } = neighboursOf(round, secrets.member, adverts);
  const u2 = new Set(sharedBy);
  if (!u2.has(secrets.member)) throw new SecAggError('BAD_PARAMETERS', `${secrets.member} is not among the members whose shares were delivered`);
  const y = applyMask(input.slice(), secrets.selfSeed, 1);
  for (const v of nbrs) {
    if (!u2.has(v)) continue;
    const seed = agreeKey(secrets.mask.secretKey, byMember.get(v)!.maskPublic, maskLabel(round.context, secrets.member, v));
    applyMask(y, seed, maskSign(secrets.member, v));
  }
  return y;
}

/**
 * Step 3, Unmasking: for each neighbour v in U2 that sealed shares to this client, its share of
 * b_v if v's masked input counts (v in U3) or of s_v^SK if not: never both for one v, which is
 * what keeps every update hidden. `maskedBy` is U3 and must lie within `sharedBy` (U2).
 * Bundles that do not open are skipped and returned as `rejected`.
 */
export function revealShares(round: SecAggRound, secrets: SecAggSecrets, adverts: readonly KeyAdvert[], sharedBy: readonly string[], maskedBy: readonly string[], inbox: readonly SealedShares[]): { reveals: Reveal[]; rejected: SecAggError[] } {
  const { nbrs, byMember } = neighboursOf(round, secrets.member, adverts);
  const u2 = new Set(sharedBy);
  const u3 = new Set(maskedBy);
  for (const m of u3) if (!u2.has(m)) throw new SecAggError('BAD_PARAMETERS', `${m} is listed as masked but not as having shared its keys`);
  const nbrSet = new Set(nbrs);
  const reveals: Reveal[] = [];
  const rejected: SecAggError[] = [];
  const seen = new Set<string>();
  for (const b of inbox) {
    // only bundles to this client, from a neighbour in U2, once per sender
    if (b.to !== secrets.member || !nbrSet.has(b.from) || !u2.has(b.from) || seen.has(b.from)) continue;
    seen.add(b.from);
    try {
      const pair = openShares(round.context, b.from, secrets.member, secrets.share.secretKey, byMember.get(b.from)!.sharePublic, b.sealed);
      const kind = u3.has(b.from) ? 'self' : 'key';
      reveals.push({ from: secrets.member, about: b.from, kind, share: kind === 'self' ? pair.selfShare : pair.keyShare });
    } catch (e) {
      if (e instanceof SecAggError) rejected.push(e);
      else throw e;
    }
  }
  return { reveals, rejected };
}
