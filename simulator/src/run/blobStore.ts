import type { BlobRef } from '@canopy/core/protocol';
import { sha256Hex } from '@canopy/core/util';

// The data plane's storage, shared by every virtual node: blobs by hash, each remembering
// which node stored it (where a fetch is served from) and in which root round (so old
// rounds can be dropped). A synthetic client update is kept as its recipe, not its bytes:
// 10,000 clients × P floats per round would not fit, and the bytes are a pure function of
// the recipe (see core/src/ml/synthetic.ts), so they are rebuilt when a worker aggregates them.

/** What a blob holds. */
export type BlobBody =
  | { readonly kind: 'bytes'; readonly bytes: Uint8Array }
  | { readonly kind: 'json'; readonly value: unknown }
  /** A synthetic client update: `syntheticTrain(global, member)`, built on demand. */
  | { readonly kind: 'update'; readonly member: string; readonly global: string };

interface Entry {
  readonly body: BlobBody;
  readonly size: number;
  readonly origin: string;
  readonly generation: number;
}

/** Blobs by hash, with the node that stored each and the root round it belongs to. */
export class BlobStore {
  private readonly entries = new Map<string, Entry>();
  private readonly decoded = new Map<string, Float32Array>();
  /** The current root round; new blobs are stamped with it. */
  generation = 0;

  /**
   * Stores a body under a known ref (a storeBlob effect, or a computed result). `generation`:
   * the root round it belongs to, if not the current one (a result computed on a thread
   * belongs to the round its computation started in).
   */
  put(ref: BlobRef, body: BlobBody, origin: string, generation = this.generation): void {
    if (this.entries.has(ref.hash)) return;
    this.entries.set(ref.hash, { body, size: ref.size, origin, generation });
  }

  /** Stores bytes under their sha256 and returns the ref. */
  putBytes(bytes: Uint8Array, origin: string, generation = this.generation): BlobRef {
    const ref = { hash: sha256Hex(bytes), size: bytes.byteLength };
    this.put(ref, { kind: 'bytes', bytes }, origin, generation);
    return ref;
  }

  has(hash: string): boolean {
    return this.entries.has(hash);
  }

  body(hash: string): BlobBody | undefined {
    return this.entries.get(hash)?.body;
  }

  /** The node that stored a blob (where fetches of it are served from). */
  origin(hash: string): string | undefined {
    return this.entries.get(hash)?.origin;
  }

  size(hash: string): number {
    return this.entries.get(hash)?.size ?? 0;
  }

  /** The bytes of a `bytes` blob; throws for a missing blob or another kind. */
  bytes(hash: string): Uint8Array {
    const b = this.entries.get(hash)?.body;
    if (b?.kind !== 'bytes') throw new Error(`blob ${hash.slice(0, 12)} is ${b ? `a ${b.kind} blob` : 'missing'}, not bytes`);
    return b.bytes;
  }

  /** A JSON blob's value; throws for a missing blob or another kind. */
  json(hash: string): unknown {
    const b = this.entries.get(hash)?.body;
    if (b?.kind !== 'json') throw new Error(`blob ${hash.slice(0, 12)} is ${b ? `a ${b.kind} blob` : 'missing'}, not JSON`);
    return b.value;
  }

  /**
   * A decoded parameter vector, cached: every client of a round trains from the same
   * global, and decoding it once per client would cost O(clients × P). Read-only.
   */
  vector(hash: string, decode: (bytes: Uint8Array) => Float32Array): Float32Array {
    let v = this.decoded.get(hash);
    if (!v) {
      v = decode(this.bytes(hash));
      if (this.decoded.size >= 64) this.decoded.delete(this.decoded.keys().next().value!);
      this.decoded.set(hash, v);
    }
    return v;
  }

  /** Drops blobs of root rounds before `generation`, except those in `keep`. */
  sweep(generation: number, keep: ReadonlySet<string>): void {
    for (const [hash, e] of this.entries) {
      if (e.generation < generation && !keep.has(hash)) {
        this.entries.delete(hash);
        this.decoded.delete(hash);
      }
    }
  }

  /** Blobs held. */
  get count(): number {
    return this.entries.size;
  }
}
