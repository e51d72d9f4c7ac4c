import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { x25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { x25519Shared } from '../../util/fastCrypto.js';

// PROTOCOL.md §6.14: the secret every worker of a DP cluster derives its noise from. All honest
// workers must add the same noise, so that their aggregates agree by hash; nobody else may know
// it, or they could subtract it from the published model. The host draws a 32-byte noise key and
// seals it to each worker under X25519 (host key, worker key); each round's noise seed is
// HKDF(noise key, job, round, inputs hash).

const encoder = new TextEncoder();
const ZERO_NONCE = new Uint8Array(12);

/** An X25519 key pair as hex, from 32 secret bytes. */
export function noiseKeyPair(secret: Uint8Array): { secretKey: string; publicKey: string } {
  if (secret.length !== 32) throw new RangeError(`an X25519 secret key is 32 bytes, got ${secret.length}`);
  return { secretKey: bytesToHex(secret), publicKey: bytesToHex(x25519.getPublicKey(secret)) };
}

// The sealing key of (host, worker) for one job: HKDF-SHA256 of their X25519 point, labelled.
function sealingKey(secretKeyHex: string, peerPublicHex: string, job: string, worker: string): Uint8Array {
  const shared = x25519Shared(hexToBytes(secretKeyHex), hexToBytes(peerPublicHex));
  return hkdf(sha256, shared, undefined, encoder.encode(`canopy/dp/1|noise-key|${job}|${worker}`), 32);
}

/**
 * The host seals the job's noise key (hex, 32 bytes) to one worker: ChaCha20-Poly1305 under the
 * pair's sealing key, zero nonce (each sealing key seals this one plaintext only). 96 hex digits.
 * Throws for a worker public key of low order.
 */
export function sealNoiseKey(hostSecretHex: string, workerPublicHex: string, job: string, worker: string, noiseKeyHex: string): string {
  const key = sealingKey(hostSecretHex, workerPublicHex, job, worker);
  return bytesToHex(chacha20poly1305(key, ZERO_NONCE).encrypt(hexToBytes(noiseKeyHex)));
}

/** A worker opens its sealed noise key; null when it does not open (wrong keys or altered). */
export function openNoiseKey(workerSecretHex: string, hostPublicHex: string, job: string, worker: string, sealedHex: string): string | null {
  try {
    const key = sealingKey(workerSecretHex, hostPublicHex, job, worker);
    return bytesToHex(chacha20poly1305(key, ZERO_NONCE).decrypt(hexToBytes(sealedHex)));
  } catch {
    return null;
  }
}

/**
 * One round's noise seed (hex, 32 bytes): the same for every attempt of the round over the same
 * inputs, so a retried vote releases no second noisy copy of the same sum.
 */
export function roundNoiseSeed(noiseKeyHex: string, job: string, round: number, inputsHash: string): string {
  return bytesToHex(hkdf(sha256, hexToBytes(noiseKeyHex), undefined, encoder.encode(`canopy/dp/1|round-noise|${job}|${round}|${inputsHash}`), 32));
}
