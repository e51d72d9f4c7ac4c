import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { combine, split } from 'shamir-secret-sharing';
import { agreeKey } from './keys.js';
import { SecAggError } from './secAggError.js';

// Step ShareKeys of SecAgg (Bonawitz et al. 2017, §4, round 1): a client splits its two secrets,
// the mask key's secret s_u^SK and the self-mask seed b_u, into Shamir shares (t of them
// reconstruct, t - 1 say nothing), one pair per neighbour, and sends each pair encrypted and
// authenticated (ChaCha20-Poly1305 under an X25519 agreement of the share keys) through the host,
// which cannot read them. Shamir is the audited `shamir-secret-sharing` (GF(2^8), 255 shares
// at most; a share is the secret's length plus one byte, its x coordinate).

/** Bytes of one Shamir share of a 32-byte secret. */
export const SHARE_BYTES = 33;
const PLAIN_BYTES = 1 + 2 * SHARE_BYTES;
const VERSION = 1;
const NONCE = new Uint8Array(12);

/** Splits a secret into `holders` shares of which `threshold` reconstruct it (2 <= threshold <= holders <= 255). */
export async function splitSecret(secret: Uint8Array, holders: number, threshold: number): Promise<Uint8Array[]> {
  if (!(threshold >= 2 && threshold <= holders && holders <= 255)) {
    throw new SecAggError('BAD_PARAMETERS', `Shamir sharing needs 2 <= threshold <= holders <= 255, got threshold ${threshold} of ${holders}`);
  }
  return split(secret, holders, threshold);
}

/**
 * The secret that `shares` reconstruct and `check` accepts. All shares are tried together first;
 * if `check` refuses the result (some share is wrong), subsets of `threshold` shares are tried
 * until one passes, at most `maxTries` of them. Throws {@link SecAggError} BELOW_THRESHOLD with
 * fewer than `threshold` distinct shares, BAD_SHARE when no tried combination passes: a wrong
 * share can block a reconstruction but never slip a wrong secret past `check`.
 */
export async function reconstructSecret(shares: readonly Uint8Array[], threshold: number, check: (secret: Uint8Array) => boolean, what: string, maxTries = 256): Promise<Uint8Array> {
  const byX = new Map<number, Uint8Array>();
  for (const s of shares) if (s.length === SHARE_BYTES && s[SHARE_BYTES - 1] !== 0) byX.set(s[SHARE_BYTES - 1]!, s);
  const distinct = [...byX.values()];
  if (distinct.length < threshold || distinct.length < 2) {
    throw new SecAggError('BELOW_THRESHOLD', `${what}: ${distinct.length} valid share(s), the threshold is ${threshold}`);
  }
  const attempt = async (set: Uint8Array[]): Promise<Uint8Array | undefined> => {
    const secret = await combine(set);
    return check(secret) ? secret : undefined;
  };
  const all = await attempt(distinct);
  if (all) return all;
  let tries = 1;
  for (const subset of subsetsOf(distinct.length, threshold)) {
    if (tries++ >= maxTries) break;
    const got = await attempt(subset.map((i) => distinct[i]!));
    if (got) return got;
  }
  throw new SecAggError('BAD_SHARE', `${what}: no combination of the ${distinct.length} shares reconstructs the committed secret`);
}

function* subsetsOf(n: number, k: number): Generator<number[]> {
  const idx = Array.from({ length: k }, (_, i) => i);
  for (;;) {
    yield idx.slice();
    let i = k - 1;
    while (i >= 0 && idx[i] === n - k + i) i--;
    if (i < 0) return;
    idx[i]!++;
    for (let j = i + 1; j < k; j++) idx[j] = idx[j - 1]! + 1;
  }
}

/** The two shares one member holds of another's secrets. */
export interface SharePair {
  /** share of the owner's mask secret key s^SK, revealed if the owner drops out */
  readonly keyShare: Uint8Array;
  /** share of the owner's self-mask seed b, revealed if the owner's masked input counts */
  readonly selfShare: Uint8Array;
}

function shareLabel(context: string, from: string, to: string): string {
  return `share|${context}|${from}>${to}`;
}

/** Encrypts `pair` from `from` to `to` under their share keys, bound to the round `context`. */
export function sealShares(context: string, from: string, to: string, fromShareSecret: Uint8Array, toSharePublic: Uint8Array, pair: SharePair): Uint8Array {
  const plain = new Uint8Array(PLAIN_BYTES);
  plain[0] = VERSION;
  plain.set(pair.keyShare, 1);
  plain.set(pair.selfShare, 1 + SHARE_BYTES);
  const key = agreeKey(fromShareSecret, toSharePublic, shareLabel(context, from, to));
  return chacha20poly1305(key, NONCE, new TextEncoder().encode(shareLabel(context, from, to))).encrypt(plain);
}

/**
 * Decrypts a share bundle sent by `from` to `to` in round `context`. Throws {@link SecAggError}
 * BAD_SHARE if it does not authenticate (tampered, another round, another sender or receiver)
 * or is not a version-1 pair of 33-byte shares.
 */
export function openShares(context: string, from: string, to: string, toShareSecret: Uint8Array, fromSharePublic: Uint8Array, sealed: Uint8Array): SharePair {
  const key = agreeKey(toShareSecret, fromSharePublic, shareLabel(context, from, to));
  let plain: Uint8Array;
  try {
    plain = chacha20poly1305(key, NONCE, new TextEncoder().encode(shareLabel(context, from, to))).decrypt(sealed);
  } catch (e) {
    throw new SecAggError('BAD_SHARE', `the shares ${from} sent ${to} do not decrypt for this round`, { cause: e, member: from });
  }
  if (plain.length !== PLAIN_BYTES || plain[0] !== VERSION) throw new SecAggError('BAD_SHARE', `the shares ${from} sent ${to} are not a version-${VERSION} share pair`, { member: from });
  return { keyShare: plain.slice(1, 1 + SHARE_BYTES), selfShare: plain.slice(1 + SHARE_BYTES) };
}
