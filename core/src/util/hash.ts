import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';

// Node's own sha256 (OpenSSL), reached without importing node:crypto so that this module still
// loads unchanged in a browser or a renderer, where the pure-JS @noble/hashes is used. Both give
// the same digest (hash.test.ts checks it); the native one is several times faster, which
// matters to a node hashing every model it sees and to a simulator hashing 10,000 job sheets.
interface NativeHash {
  update(data: Uint8Array | string): NativeHash;
  digest(): Uint8Array;
  digest(encoding: 'hex'): string;
}
interface NativeSha256 {
  createHash(algorithm: 'sha256'): NativeHash;
}
const native: NativeSha256 | undefined = (() => {
  const get = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule;
  return typeof get === 'function' ? (get('node:crypto') as NativeSha256 | undefined) : undefined;
})();

/**
 * sha256 of bytes as lowercase hex: the same in Node, a browser and the pure protocol core;
 * it is what makes parameter hashes comparable across machines.
 */
export function sha256Hex(data: Uint8Array | ArrayBufferView): string {
  const bytes = data instanceof Uint8Array ? data : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return native ? native.createHash('sha256').update(bytes).digest('hex') : bytesToHex(sha256(bytes));
}

/** An incremental sha256: bytes fed in pieces (a download as it arrives) give the digest of the whole. */
export interface Sha256Hasher {
  update(data: Uint8Array): void;
  /** The digest as lowercase hex, the same as {@link sha256Hex} of all the bytes fed. */
  digestHex(): string;
}

/** Starts an incremental sha256 (native in Node, pure JS elsewhere). */
export function sha256Hasher(): Sha256Hasher {
  if (native) {
    const h = native.createHash('sha256');
    return { update: (data) => void h.update(data), digestHex: () => h.digest('hex') };
  }
  const h = sha256.create();
  return { update: (data) => void h.update(data), digestHex: () => bytesToHex(h.digest()) };
}

/** Raw sha256 digest (32 bytes). */
export function sha256Bytes(data: Uint8Array): Uint8Array {
  if (!native) return sha256(data);
  const d = native.createHash('sha256').update(data).digest();
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}

/** sha256 hex of a string's UTF-8 bytes. */
export function sha256Text(text: string): string {
  return native ? native.createHash('sha256').update(text).digest('hex') : bytesToHex(sha256(new TextEncoder().encode(text)));
}

/** The length of a string's UTF-8 encoding, in bytes, without encoding it (lone surrogates count as U+FFFD, as TextEncoder writes them). */
export function utf8Length(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** Whether hashing runs on Node's native sha256 (false in a browser: pure JS). */
export const nativeSha256 = native !== undefined;

/** The pure-JS sha256 hex, whatever the platform (for checking the native one against it). */
export function sha256HexPortable(data: Uint8Array): string {
  return bytesToHex(sha256(data));
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
  return sha256Text(canonicalJson(value));
}
