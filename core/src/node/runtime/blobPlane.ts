import type { PeerId } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { fetchBlob, serveBlobs } from '../../net/blobExchange.js';
import type { CanopyLibp2p } from '../../net/createNode.js';
import type { BlobRef, BlobStore } from '../storage/blobStore.js';
import { canonicalJson } from '../../util/hash.js';
import type { Log } from '../../util/log.js';

/**
 * A node's data plane: serves its blob store (dataset chunks only to the member they are
 * for), fetches blobs from a list of candidate providers with a size limit, and counts
 * bytes. Concurrent fetches of one hash share one transfer.
 */
export class BlobPlane {
  private readonly grants = new Map<string, Set<string>>();
  private readonly inflight = new Map<string, Promise<boolean>>();
  /** Bytes received by completed fetches. */
  bytesFetched = 0;
  /** Fetches that failed on every provider. */
  failedFetches = 0;
  /** Blob hashes each peer was allowed to start downloading (for audits and tests). */
  readonly served: { peer: string; hash: string }[] = [];

  constructor(
    private readonly node: CanopyLibp2p,
    readonly store: BlobStore,
    private readonly log: Log,
  ) {}

  async start(): Promise<void> {
    await serveBlobs(this.node, this.store, {
      authorize: (peer: PeerId, hash: string) => {
        const allowed = this.grants.get(hash);
        const ok = !allowed || allowed.has(peer.toString());
        if (ok && this.served.length < 10_000) this.served.push({ peer: peer.toString(), hash });
        return ok;
      },
    });
  }

  /** Serves a blob only to these peers (dataset chunks go to their member alone). */
  restrict(hash: string, peers: readonly string[]): void {
    this.grants.set(hash, new Set(peers));
  }

  /** Stores a JSON value as its canonical JSON (what `storeBlob` and `jsonBlobRef` hash). */
  putJson(value: unknown): Promise<BlobRef> {
    return this.store.put(new TextEncoder().encode(canonicalJson(value)));
  }

  /** Reads a JSON blob; undefined when it is missing or not JSON. */
  async getJson(hash: string): Promise<unknown> {
    try {
      return JSON.parse(new TextDecoder().decode(await this.store.get(hash)));
    } catch {
      return undefined;
    }
  }

  /**
   * Ensures a blob is stored locally, trying the providers in order (peer ids; this node's
   * own id and duplicates are skipped). Resolves false if none delivered it intact.
   */
  fetch(ref: { hash: string; size?: number }, providers: readonly string[], { maxBytes, signal }: { maxBytes: number; signal?: AbortSignal }): Promise<boolean> {
    const running = this.inflight.get(ref.hash);
    if (running) return running;
    const p = this.fetchOnce(ref, providers, maxBytes, signal).finally(() => this.inflight.delete(ref.hash));
    this.inflight.set(ref.hash, p);
    return p;
  }

  private async fetchOnce(ref: { hash: string; size?: number }, providers: readonly string[], maxBytes: number, signal?: AbortSignal): Promise<boolean> {
    if (await this.store.has(ref.hash)) return true;
    const self = this.node.peerId.toString();
    const ids: PeerId[] = [];
    for (const p of new Set(providers)) {
      if (p === self) continue;
      try {
        ids.push(peerIdFromString(p));
      } catch {
        // A member id that is not a peer id (an unmapped name) cannot provide anything.
      }
    }
    try {
      const got = await fetchBlob(this.node, this.store, ref, ids, { maxBytes, ...(signal ? { signal } : {}) });
      this.bytesFetched += got.size;
      return true;
    } catch (err) {
      this.failedFetches++;
      this.log.debug({ hash: ref.hash.slice(0, 12), err: (err as Error).message }, 'blob fetch failed');
      return false;
    }
  }
}
