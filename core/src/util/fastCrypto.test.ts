import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chacha20Keystream, nativeCipher, x25519Shared } from './fastCrypto.js';
import { x25519 } from '@noble/curves/ed25519.js';

// The native and pure-JS paths must give the same bytes, or peers on different platforms would
// build different masks.

describe('fastCrypto', () => {
  it('runs natively under Node', () => {
    expect(nativeCipher).toBe(true);
  });

  it('gives the same ChaCha20 keystream natively and in pure JS', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.integer({ min: 0, max: 5000 }), (key, n) => {
        expect(Buffer.from(chacha20Keystream(key, n)).equals(Buffer.from(chacha20Keystream(key, n, true)))).toBe(true);
      }),
      { seed: 12, numRuns: 50 },
    );
  });

  it('matches RFC 8439 §2.4.2 keystream block at counter 0 for the all-zero key', () => {
    // RFC 8439 A.1 test vector #1: key 0, nonce 0, counter 0
    expect(Buffer.from(chacha20Keystream(new Uint8Array(32), 16)).toString('hex')).toBe('76b8e0ada0f13d90405d6ae55386bd28');
  });

  it('gives the same X25519 secret natively and in pure JS, and refuses low-order points', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), (a, b) => {
        const pub = x25519.getPublicKey(b);
        expect(Buffer.from(x25519Shared(a, pub)).equals(Buffer.from(x25519Shared(a, pub, true)))).toBe(true);
      }),
      { seed: 13, numRuns: 50 },
    );
    expect(() => x25519Shared(new Uint8Array(32).fill(1), new Uint8Array(32))).toThrow();
    expect(() => x25519Shared(new Uint8Array(32).fill(1), new Uint8Array(32), true)).toThrow();
    expect(() => x25519Shared(new Uint8Array(31), new Uint8Array(32))).toThrow(/32 bytes/);
  });
});
