import { x25519 } from '@noble/curves/ed25519.js';
import { x25519Shared } from '../../util/fastCrypto.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { SecAggError } from './secAggError.js';

// Key agreement for secure aggregation (Bonawitz et al. 2017, §4, AdvertiseKeys): X25519
// (RFC 7748), the shared point through HKDF-SHA256 (RFC 5869) with a label that binds it to its
// use, the round and the two members, so one agreement never yields the same key twice.

/** An X25519 key pair: 32-byte secret and public keys. */
export interface KeyPair {
  readonly secretKey: Uint8Array;
  readonly publicKey: Uint8Array;
}

/**
 * The key pair whose secret key is `seed` (32 bytes the caller drew from a cryptographic source;
 * X25519 clamps them). Taking the randomness as input keeps this pure.
 */
export function keyPairFromSeed(seed: Uint8Array): KeyPair {
  if (seed.length !== 32) throw new SecAggError('BAD_KEY', `an X25519 secret key is 32 bytes, got ${seed.length}`);
  return { secretKey: seed.slice(), publicKey: x25519.getPublicKey(seed) };
}

/** The public key that belongs to a secret key: how a revealed secret key is checked. */
export function publicKeyOf(secretKey: Uint8Array): Uint8Array {
  return x25519.getPublicKey(secretKey);
}

/**
 * A 32-byte key agreed between `secretKey`'s owner and the owner of `peerPublicKey`, labelled by
 * `label` (say 'mask|<round context>|<a>|<b>'). Both sides get the same bytes for the same label.
 * Throws {@link SecAggError} `BAD_KEY` for a public key that is malformed or of low order.
 */
export function agreeKey(secretKey: Uint8Array, peerPublicKey: Uint8Array, label: string): Uint8Array {
  let shared: Uint8Array;
  try {
    shared = x25519Shared(secretKey, peerPublicKey);
  } catch (e) {
    throw new SecAggError('BAD_KEY', `public key ${bytesToHex(peerPublicKey).slice(0, 16)}… does not agree: ${(e as Error).message}`, { cause: e });
  }
  return hkdf(sha256, shared, undefined, new TextEncoder().encode(`canopy/secagg/1|${label}`), 32);
}

/** sha256 of a seed: the commitment a client publishes so a reconstructed seed can be checked. */
export function commitSeed(seed: Uint8Array): Uint8Array {
  return sha256(seed);
}
