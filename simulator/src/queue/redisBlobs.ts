import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { BadInputError } from '@canopy/core/util';
import { BlobRefJson, keys } from './queueProtocol.js';

/** Options of {@link RedisBlobs}. */
export interface RedisBlobsInit {
  /** Byte arrays up to this size travel inline in the message (base64) instead of as blobs. */
  readonly inlineMax?: number;
  /** Seconds a blob lives in Redis unless deleted first (a crashed run's blobs go away by themselves). */
  readonly ttlSeconds?: number;
  /** Bytes of fetched blobs kept in this process, most recently used first. */
  readonly cacheBytes?: number;
  /**
   * Skip storing a blob this process stored before and has not deleted. Only for a process
   * that alone deletes the blobs it stores (a simulation, not a worker, whose results the
   * simulation deletes once read).
   */
  readonly skipStored?: boolean;
}

/**
 * Content-addressed blobs in Redis: a byte array is stored under its sha256 once, and a
 * task message carries only the hash. What is read back is checked against its hash, so a
 * corrupt or foreign value is refused, never used. Fetched blobs are cached (LRU by bytes),
 * so the global model of a round is fetched once per process, not once per task.
 */
export class RedisBlobs {
  private readonly inlineMax: number;
  private readonly ttl: number;
  private readonly cacheBytes: number;
  private readonly skipStored: boolean;
  private readonly cache = new Map<string, Uint8Array>();
  private cached = 0;
  private readonly hashes = new WeakMap<Uint8Array, string>();
  private readonly taking = new Map<string, Promise<Uint8Array>>();
  /** Blobs this process stored and has not deleted: stored again, they cost no transfer. */
  private readonly stored = new Set<string>();

  constructor(
    private readonly redis: Redis,
    init: RedisBlobsInit = {},
  ) {
    this.inlineMax = init.inlineMax ?? 4096;
    this.ttl = init.ttlSeconds ?? 24 * 3600;
    this.cacheBytes = init.cacheBytes ?? 256 * 1024 * 1024;
    this.skipStored = init.skipStored ?? false;
  }

  /** Stores `bytes` (unless inline-sized) and returns its reference. */
  async put(bytes: Uint8Array): Promise<BlobRefJson> {
    if (bytes.byteLength <= this.inlineMax) return { $inline: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64') };
    const hash = this.hashOf(bytes);
    if (this.skipStored && this.stored.has(hash)) return { $blob: hash, size: bytes.byteLength };
    // NX: a blob already there is the same bytes; only its lifetime is renewed.
    const set = await this.redis.set(keys.blob(hash), Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), 'EX', this.ttl, 'NX');
    if (set === null) await this.redis.expire(keys.blob(hash), this.ttl);
    this.remember(hash, bytes);
    if (this.stored.size >= 100_000) this.stored.clear();
    this.stored.add(hash);
    return { $blob: hash, size: bytes.byteLength };
  }

  /** Reads a blob (from the cache when it is there); throws if it is missing or does not match its hash. */
  async get(ref: BlobRefJson): Promise<Uint8Array> {
    if ('$inline' in ref) return new Uint8Array(Buffer.from(ref.$inline, 'base64'));
    const hit = this.cache.get(ref.$blob);
    if (hit) {
      this.cache.delete(ref.$blob);
      this.cache.set(ref.$blob, hit);
      return hit;
    }
    const buf = await this.redis.getBuffer(keys.blob(ref.$blob));
    if (buf === null) throw new BadInputError(`blob ${ref.$blob.slice(0, 12)} is not in Redis (expired, or deleted by a run that ended)`);
    const bytes = checked(ref, buf);
    this.remember(ref.$blob, bytes);
    return bytes;
  }

  /**
   * Reads a blob once and deletes it from Redis in the same command (GETDEL): for a result
   * only this process reads. Checked against its hash as {@link get} does; not cached.
   */
  take(ref: BlobRefJson): Promise<Uint8Array> {
    if ('$inline' in ref) return this.get(ref);
    const hash = ref.$blob;
    // Two tasks may return the same bytes (members initialising alike): the one taken is
    // cached, and one read in flight serves both.
    const hit = this.cache.get(hash);
    if (hit) return Promise.resolve(hit);
    let p = this.taking.get(hash);
    if (!p) {
      p = (async () => {
        const buf = await this.redis.getdelBuffer(keys.blob(hash));
        if (buf === null) throw new BadInputError(`blob ${hash.slice(0, 12)} is not in Redis (expired, or deleted by a run that ended)`);
        const bytes = checked(ref, buf);
        this.remember(hash, bytes);
        return bytes;
      })().finally(() => this.taking.delete(hash));
      this.taking.set(hash, p);
    }
    return p;
  }

  /** Deletes blobs by hash (a run's own, when it no longer needs them). */
  async delete(hashes: readonly string[]): Promise<void> {
    for (const h of hashes) {
      this.stored.delete(h);
      const b = this.cache.get(h);
      if (b) {
        this.cached -= b.byteLength;
        this.cache.delete(h);
      }
    }
    if (hashes.length > 0) await this.redis.del(...hashes.map((h) => keys.blob(h)));
  }

  /** The hash `put` gives these bytes (computed once per array). */
  hashOf(bytes: Uint8Array): string {
    let h = this.hashes.get(bytes);
    if (h === undefined) {
      h = sha256(bytes);
      this.hashes.set(bytes, h);
    }
    return h;
  }

  private remember(hash: string, bytes: Uint8Array): void {
    if (bytes.byteLength > this.cacheBytes || this.cache.has(hash)) return;
    this.cache.set(hash, bytes);
    this.cached += bytes.byteLength;
    for (const [h, b] of this.cache) {
      if (this.cached <= this.cacheBytes) break;
      this.cache.delete(h);
      this.cached -= b.byteLength;
    }
  }
}

function checked(ref: { $blob: string; size: number }, buf: Buffer): Uint8Array {
  const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  if (bytes.byteLength !== ref.size || sha256(bytes) !== ref.$blob) throw new BadInputError(`blob ${ref.$blob.slice(0, 12)} in Redis does not match its hash; refusing it`);
  return bytes;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Replaces every byte array in a JSON-like value with its blob reference. */
export async function encodeBlobs(value: unknown, put: (bytes: Uint8Array) => Promise<BlobRefJson>): Promise<unknown> {
  if (value instanceof Uint8Array) return put(value);
  if (Array.isArray(value)) return Promise.all(value.map((v) => encodeBlobs(v, put)));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = await encodeBlobs(v, put);
    return out;
  }
  return value;
}

/** Replaces every blob reference in a decoded message with its bytes. */
export async function decodeBlobs(value: unknown, get: (ref: BlobRefJson) => Promise<Uint8Array>): Promise<unknown> {
  if (Array.isArray(value)) return Promise.all(value.map((v) => decodeBlobs(v, get)));
  if (value !== null && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if ('$blob' in o || '$inline' in o) {
      const ref = BlobRefJson.safeParse(o);
      if (!ref.success) throw new BadInputError('a task message holds a malformed blob reference');
      return get(ref.data);
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(o)) out[k] = await decodeBlobs(v, get);
    return out;
  }
  return value;
}

/** Hashes of the Redis-held blobs a value references. */
export function blobHashes(value: unknown, into: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) blobHashes(v, into);
  else if (value !== null && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (typeof o.$blob === 'string') into.push(o.$blob);
    else for (const v of Object.values(o)) blobHashes(v, into);
  }
  return into;
}
