import { chacha20Keystream } from '../../util/fastCrypto.js';
import { ParameterError } from '../../util/errors.js';

// The pseudorandom generator that expands a 32-byte seed into a mask (Bonawitz et al. 2017, §4:
// PRG(b_u), PRG(s_u,v)): the ChaCha20 keystream (RFC 8439) under the seed as key, an all-zero
// nonce and block counter 0, read as little-endian uint32s. A seed is used for one mask of one
// round only, so the fixed nonce never repeats under a key.

const littleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** The mask for `seed`: `length` uniform ring elements, the same on every machine. */
export function expandMask(seed: Uint8Array, length: number): Uint32Array {
  if (seed.length !== 32) throw new ParameterError(`a mask seed is 32 bytes, got ${seed.length}`);
  if (!Number.isInteger(length) || length < 0) throw new ParameterError(`a mask length is a non-negative integer, got ${length}`);
  const bytes = chacha20Keystream(seed, length * 4);
  const words = new Uint32Array(bytes.buffer, 0, length);
  if (!littleEndian) {
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < length; i++) words[i] = view.getUint32(i * 4, true);
  }
  return words;
}

/** acc += sign * PRG(seed) in the ring, in place, without keeping the mask. */
export function applyMask(acc: Uint32Array, seed: Uint8Array, sign: 1 | -1): Uint32Array {
  const m = expandMask(seed, acc.length);
  if (sign === 1) for (let i = 0; i < acc.length; i++) acc[i] = (acc[i]! + m[i]!) >>> 0;
  else for (let i = 0; i < acc.length; i++) acc[i] = (acc[i]! - m[i]!) >>> 0;
  return acc;
}
