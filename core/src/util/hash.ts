import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';

/**
 * sha256 of bytes as lowercase hex. Pure JS, so it runs the same in Node, a browser and the
 * pure protocol core; it is what makes parameter hashes comparable across machines.
 */
export function sha256Hex(data: Uint8Array | ArrayBufferView): string {
  const bytes = data instanceof Uint8Array ? data : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return bytesToHex(sha256(bytes));
}

/** Raw sha256 digest (32 bytes). */
export function sha256Bytes(data: Uint8Array): Uint8Array {
  return sha256(data);
}

/**
 * JSON with object keys sorted at every level, so equal values always give equal text
 * (and equal hashes). Rejects values JSON cannot represent exactly.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = sortKeys(v);
    }
    return out;
  }
  if (typeof value === 'number' && !Number.isFinite(value)) {
    throw new TypeError(`canonicalJson: ${value} has no JSON form`);
  }
  return value;
}

/** sha256 hex of a value's canonical JSON. */
export function hashJson(value: unknown): string {
  return sha256Hex(new TextEncoder().encode(canonicalJson(value)));
}
