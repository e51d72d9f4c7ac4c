import { chacha20 } from '@noble/ciphers/chacha.js';
import { x25519 } from '@noble/curves/ed25519.js';

// ChaCha20 keystreams and X25519 agreements on Node's OpenSSL when it is there, reached without
// importing node:crypto (as hash.ts does) so that this module loads unchanged in a browser and in
// the pure protocol core, where the pure-JS @noble implementations run. Both give the same bytes
// (fastCrypto.test.ts checks it); the native ones are 10-50x faster, which is what lets a
// simulator mask a thousand clients' updates in a round.

interface NativeCipher {
  update(data: Uint8Array): Uint8Array;
}
interface NativeKeyObject {
  readonly type: string;
}
interface NativeCrypto {
  createCipheriv(algorithm: 'chacha20', key: Uint8Array, iv: Uint8Array): NativeCipher;
  createPrivateKey(key: { key: Uint8Array; format: 'der'; type: 'pkcs8' }): NativeKeyObject;
  createPublicKey(key: { key: Uint8Array; format: 'der'; type: 'spki' }): NativeKeyObject;
  diffieHellman(options: { privateKey: NativeKeyObject; publicKey: NativeKeyObject }): Uint8Array;
}
const native: NativeCrypto | undefined = (() => {
  const get = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule;
  return typeof get === 'function' ? (get('node:crypto') as NativeCrypto | undefined) : undefined;
})();

/** Whether these run on Node's native crypto (false in a browser: pure JS). */
export const nativeCipher = native !== undefined;

/**
 * `length` bytes of the RFC 8439 ChaCha20 keystream under `key` (32 bytes), a zero nonce and
 * block counter 0, written into `out` if given.
 */
export function chacha20Keystream(key: Uint8Array, length: number, portable = false): Uint8Array {
  const out = new Uint8Array(length);
  if (native && !portable) {
    // OpenSSL's iv is the 32-bit little-endian counter followed by the 96-bit nonce
    const ks = native.createCipheriv('chacha20', key, new Uint8Array(16)).update(out);
    out.set(ks);
    return out;
  }
  return chacha20(key, new Uint8Array(12), out, out);
}

const PKCS8_X25519 = Uint8Array.from([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20]);
const SPKI_X25519 = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x03, 0x21, 0x00]);

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/**
 * The RFC 7748 X25519 shared secret of a 32-byte secret key and a peer's 32-byte public key.
 * Throws for a malformed key or an all-zero result (a public key of low order).
 */
export function x25519Shared(secretKey: Uint8Array, publicKey: Uint8Array, portable = false): Uint8Array {
  if (secretKey.length !== 32 || publicKey.length !== 32) throw new Error(`X25519 keys are 32 bytes, got ${secretKey.length} and ${publicKey.length}`);
  if (!native || portable) return x25519.getSharedSecret(secretKey, publicKey);
  let shared: Uint8Array;
  try {
    shared = native.diffieHellman({
      privateKey: native.createPrivateKey({ key: concat(PKCS8_X25519, secretKey), format: 'der', type: 'pkcs8' }),
      publicKey: native.createPublicKey({ key: concat(SPKI_X25519, publicKey), format: 'der', type: 'spki' }),
    });
  } catch (e) {
    throw new Error(`X25519 agreement failed: ${(e as Error).message}`, { cause: e });
  }
  if (shared.every((b) => b === 0)) throw new Error('X25519 agreement gave the all-zero secret: the public key has low order');
  return new Uint8Array(shared.buffer, shared.byteOffset, shared.byteLength).slice();
}
