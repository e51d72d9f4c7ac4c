import type { PeerId } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { fetchBlob, serveBlobs } from '../../net/blobExchange.js';
import { replaceLimitedConnections } from '../../net/limitedConnections.js';
import type { CanopyLibp2p } from '../../net/createNode.js';
import type { BlobRef } from '../../spec/blobRef.js';
import type { BlobStore } from '../../storage/blobStore.js';
import { canonicalJson } from '../../util/hash.js';
import type { Log } from '../../util/log.js';

/**
 * Who may download what from a node. Without a policy a plane serves any blob it holds to
 * anyone (the CLI's short-lived peers hold nothing private); a node's plane always has one.
 */
export interface BlobAccessPolicy {
  /** Whether a peer is a member of some job this node takes part in. */
  isMember(peer: string): boolean;
  /** Whether anyone may fetch a blob: announced submissions, and final results this node may hand out. */
  isPublic(hash: string): boolean;
}

/**
 * A node's data plane: serves its blob store (dataset chunks only to the member they are
 * for; everything else only to members of its jobs, unless it is public), fetches blobs from
 * a list of candidate providers with a size limit, and counts bytes. Concurrent fetches of
 * one hash share one transfer.
 */
export class BlobPlane {
  private readonly grants = new Map<string, Set<string>>();
  private policy: BlobAccessPolicy | undefined;
  /** Requests refused by the access rules. */
  refused = 0;
  private readonly inflight = new Map<string, Promise<boolean>>();
  /** Bytes received by completed fetches. */
  bytesFetched = 0;
  /** Of those, bytes of blobs that came over a relayed connection. */
  bytesFetchedRelayed = 0;
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
        const ok = this.mayServe(peer.toString(), hash);
        if (ok && this.served.length < 10_000) this.served.push({ peer: peer.toString(), hash });
        if (!ok) {
          this.refused++;
          this.log.debug({ peer: peer.toString(), hash: hash.slice(0, 12) }, 'blob request refused: not a member of a job that holds it, and not public');
        }
        return ok;
      },
    });
  }

  /** Whether `peer` may download `hash`: a restricted blob only by its grantees, the rest by the policy. */
  mayServe(peer: string, hash: string): boolean {
    const allowed = this.grants.get(hash);
    if (allowed) return allowed.has(peer);
    return !this.policy || this.policy.isMember(peer) || this.policy.isPublic(hash);
  }

  /** Sets who may download this node's blobs (see {@link BlobAccessPolicy}). */
  setPolicy(policy: BlobAccessPolicy): void {
    this.policy = policy;
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
    await Promise.all(ids.map((id) => replaceLimitedConnections(this.node, id, signal)));
    try {
      const got = await fetchBlob(this.node, this.store, ref, ids, { maxBytes, ...(signal ? { signal } : {}) });
      this.bytesFetched += got.size;
      if (got.relayed) this.bytesFetchedRelayed += got.size;
      return true;
    } catch (err) {
      this.failedFetches++;
      this.log.warn({ hash: ref.hash.slice(0, 12), providers: ids.length, err: (err as Error).message }, 'blob fetch failed');
      return false;
    }
  }
}
