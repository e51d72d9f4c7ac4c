import './polyfill.js';
import { z } from 'zod';
import { lpStream } from '@libp2p/utils';
import type { Libp2p, PeerId, Stream, Connection } from '@libp2p/interface';
import type { BlobRef } from '../spec/blobRef.js';
import type { BlobStore, PartialBlob } from '../storage/blobStore.js';
import { assertBlobHash } from '../storage/blobStore.js';
import { CanopyError, ErrorCode, throwIfAborted } from '../util/errors.js';

/** The data-plane protocol: content-addressed blobs streamed in chunks. */
export const BLOB_PROTOCOL = '/canopy/blob/1.0.0';

/** Largest chunk frame sent; the reader rejects anything bigger. */
export const BLOB_CHUNK_BYTES = 1 << 20;

/** Bytes a requester asks for per stream; bounds what can be in flight to it. */
export const BLOB_WINDOW_BYTES = 8 << 20;

// What a provider reads from disk at a time (its read-ahead holds one more block per stream).
const READ_BLOCK_BYTES = 2 << 20;

// How many bytes before the end of a window the next one is requested.
const PIPELINE_LEAD_BYTES = 2 << 20;

// The stream's buffers hold at most one window plus framing.
const READ_BUFFER_BYTES = BLOB_WINDOW_BYTES + (1 << 20);

// Wire format (each item is one varint-length-prefixed frame), one stream per window:
//   requester -> provider: JSON BlobRequest {v, hash, offset, length}
//   provider -> requester: JSON BlobResponse; when status is "ok", then the bytes
//                          [offset, offset + length) as frames of at most BLOB_CHUNK_BYTES,
//                          where length = min(requested length, size - offset).
// Flow control is the requester's: it has at most two windows requested at a time (it asks
// for the next one while the current one's last PIPELINE_LEAD_BYTES arrive, so the provider
// never waits a round trip between windows), and it takes no further frame while more than a window of
// received bytes is still on its way to disk. libp2p 3 streams give no backpressure to a
// reader that is busy elsewhere, so this is what bounds the bytes a provider can have in flight.
export const BlobRequest = z.strictObject({
  v: z.literal(1),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  offset: z.number().int().min(0),
  length: z.number().int().min(1).max(BLOB_WINDOW_BYTES),
});
type BlobRequest = z.infer<typeof BlobRequest>;

export const BlobResponse = z.discriminatedUnion('status', [
  z.strictObject({ v: z.literal(1), status: z.literal('ok'), size: z.number().int().min(0), offset: z.number().int().min(0), length: z.number().int().min(0) }),
  z.strictObject({ v: z.literal(1), status: z.enum(['not_found', 'denied', 'bad_request']), message: z.string().max(500) }),
]);
type BlobResponse = z.infer<typeof BlobResponse>;

/** Decides whether a peer may download a blob (e.g. only the member a dataset chunk is for). */
export type BlobAuthorizer = (peer: PeerId, hash: string) => boolean | Promise<boolean>;

/** Options of {@link serveBlobs}. */
export interface ServeBlobsOptions {
  readonly authorize?: BlobAuthorizer;
  /** Concurrent inbound blob streams; more are refused by libp2p. */
  readonly maxInboundStreams?: number;
}

/** Serves blobs from `store` to peers that ask for them over {@link BLOB_PROTOCOL}. */
export async function serveBlobs(node: Libp2p, store: BlobStore, opts: ServeBlobsOptions = {}): Promise<void> {
  await node.handle(
    BLOB_PROTOCOL,
    async (stream: Stream, connection: Connection) => {
      try {
        await answer(stream, connection.remotePeer, store, opts.authorize);
      } catch (err) {
        stream.abort(err instanceof Error ? err : new Error(String(err)));
      }
    },
    // Relayed connections under a relay's default limits (128 KiB, 2 min) may carry small blobs
    // such as a job's submission; the relay cuts anything bigger, and the fetch resumes later.
    { maxInboundStreams: opts.maxInboundStreams ?? 32, runOnLimitedConnection: true },
  );
}

async function answer(stream: Stream, peer: PeerId, store: BlobStore, authorize?: BlobAuthorizer): Promise<void> {
  const lp = lpStream(stream, { maxDataLength: BLOB_CHUNK_BYTES });
  const signal = AbortSignal.timeout(30_000);
  let req: BlobRequest;
  try {
    req = BlobRequest.parse(JSON.parse(new TextDecoder().decode((await lp.read({ signal })).subarray())));
  } catch {
    await respond(lp, { v: 1, status: 'bad_request', message: `expected {v:1, hash, offset, length <= ${BLOB_WINDOW_BYTES}}` });
    await stream.close();
    return;
  }
  const size = await store.size(req.hash);
  if (size === undefined) {
    await respond(lp, { v: 1, status: 'not_found', message: `no blob ${req.hash}` });
  } else if (authorize && !(await authorize(peer, req.hash))) {
    await respond(lp, { v: 1, status: 'denied', message: 'this peer may not fetch that blob' });
  } else if (req.offset > size) {
    await respond(lp, { v: 1, status: 'bad_request', message: `offset ${req.offset} is past the end (${size})` });
  } else {
    const length = Math.min(req.length, size - req.offset);
    await respond(lp, { v: 1, status: 'ok', size, offset: req.offset, length });
    if (length > 0) {
      // Read in blocks of several frames: fewer file reads (each a trip to libuv's thread pool).
      for await (const block of store.read(req.hash, req.offset, req.offset + length - 1, READ_BLOCK_BYTES)) {
        for (let at = 0; at < block.byteLength; at += BLOB_CHUNK_BYTES) {
          await lp.write(block.subarray(at, at + BLOB_CHUNK_BYTES));
        }
      }
    }
  }
  await stream.close();
}

async function respond(lp: ReturnType<typeof lpStream>, res: BlobResponse): Promise<void> {
  await lp.write(new TextEncoder().encode(JSON.stringify(res)));
}

/** Raised when no provider could deliver a verified blob. */
export class BlobFetchError extends CanopyError {
  constructor(
    readonly hash: string,
    readonly attempts: readonly string[],
  ) {
    super(ErrorCode.Network, `could not fetch blob ${hash.slice(0, 12)}…: ${attempts.join('; ') || 'no providers'}`);
  }
}

/** How often a cut stream is resumed from the same provider, and what a cut looks like. */
const CUT_RETRIES = 3;
const CUT_STREAM = /unexpected eof|stream (?:was )?(?:reset|closed|aborted)|connection (?:was )?closed|ECONNRESET|EPIPE/i;

/** A fetched blob, and whether its last bytes came over a relayed connection. */
export type FetchedBlob = BlobRef & { readonly relayed?: boolean };

/** Options of {@link fetchBlob}. */
export interface FetchBlobOptions {
  /** Refuse blobs larger than this (the job's limit). */
  readonly maxBytes: number;
  readonly signal?: AbortSignal;
  /** Called as bytes arrive: received so far and the total. */
  readonly onProgress?: (received: number, total: number) => void;
}

/**
 * Fetches a blob into `store` from the first provider that delivers it intact. A transfer
 * cut short is resumed from where it stopped (by the next provider, or a later call); bytes
 * that do not hash to the requested address are discarded and the next provider is tried.
 */
export async function fetchBlob(node: Libp2p, store: BlobStore, ref: { hash: string; size?: number }, providers: readonly PeerId[], opts: FetchBlobOptions): Promise<FetchedBlob> {
  assertBlobHash(ref.hash);
  if (ref.size !== undefined && ref.size > opts.maxBytes) {
    throw new CanopyError(ErrorCode.BadInput, `blob ${ref.hash.slice(0, 12)}… is ${ref.size} bytes, over this job's limit of ${opts.maxBytes}`);
  }
  const existing = await store.size(ref.hash);
  if (existing !== undefined) return { hash: ref.hash, size: existing };
  const attempts: string[] = [];
  for (const provider of providers) {
    // A stream cut short (the connection it ran on was closed: an AutoNAT dial-back
    // connection, a relayed one replaced, a relay gone) resumes from the partial file, on
    // another connection to the same provider, up to CUT_RETRIES times.
    for (let attempt = 0; ; attempt++) {
      throwIfAborted(opts.signal, 'blob fetch');
      try {
        const got = await fetchFrom(node, store, ref, provider, opts);
        // Direct once any open connection to the provider is not through a relay (DCUtR may have upgraded it).
        const conns = node.getConnections(provider);
        return { ...got, relayed: conns.length > 0 && conns.every((c) => c.remoteAddr.toString().includes('/p2p-circuit')) };
      } catch (err) {
        if (err instanceof CanopyError && err.code === ErrorCode.Aborted) throw err;
        if (attempt < CUT_RETRIES && CUT_STREAM.test((err as Error).message)) continue;
        attempts.push(`${provider.toString().slice(-8)}: ${(err as Error).message}`);
        break;
      }
    }
  }
  throw new BlobFetchError(ref.hash, attempts);
}

// One window's stream once its request is written.
interface Window {
  readonly stream: Stream;
  readonly lp: ReturnType<typeof lpStream>;
  readonly offset: number;
}

async function fetchFrom(node: Libp2p, store: BlobStore, ref: { hash: string; size?: number }, provider: PeerId, opts: FetchBlobOptions): Promise<BlobRef> {
  const partial = await store.openPartial(ref.hash);
  // The blob's size: the ref's, or else what the provider's first header says; every later
  // header must agree.
  const known: { hash: string; size?: number } = { hash: ref.hash, ...(ref.size !== undefined ? { size: ref.size } : {}) };
  // The next window, requested while the current one is still arriving (see the wire format).
  const ahead: { next?: Promise<Window> } = {};
  const request = (offset: number): void => {
    ahead.next = requestWindow(node, ref.hash, provider, offset, opts.signal);
    // Its failure is seen when it is awaited; until then it is not an unhandled rejection.
    ahead.next.catch(() => undefined);
  };
  request(partial.size);
  try {
    while (ahead.next) {
      throwIfAborted(opts.signal, 'blob fetch');
      const window = await ahead.next;
      delete ahead.next;
      await receiveWindow(window, partial, known, opts, request);
    }
    return await partial.commit();
  } catch (err) {
    ahead.next?.then((w) => w.stream.abort(new Error('blob fetch stopped')), () => undefined);
    await partial.suspend();
    if (opts.signal?.aborted) throwIfAborted(opts.signal, 'blob fetch');
    throw err;
  }
}

// Opens a stream and asks for the BLOB_WINDOW_BYTES from `offset`.
async function requestWindow(node: Libp2p, hash: string, provider: PeerId, offset: number, signal?: AbortSignal): Promise<Window> {
  const stream = await node.dialProtocol(provider, BLOB_PROTOCOL, { signal, runOnLimitedConnection: true });
  try {
    stream.maxReadBufferLength = READ_BUFFER_BYTES;
    const lp = lpStream(stream, { maxDataLength: BLOB_CHUNK_BYTES, maxBufferSize: READ_BUFFER_BYTES });
    await lp.write(new TextEncoder().encode(JSON.stringify({ v: 1, hash, offset, length: BLOB_WINDOW_BYTES } satisfies BlobRequest)));
    return { stream, lp, offset };
  } catch (err) {
    stream.abort(err instanceof Error ? err : new Error(String(err)));
    throw err;
  }
}

// Receives one window into the partial file, which must end where the window starts. Once
// the header is accepted and more of the blob remains, calls `more` with where the next
// window starts.
async function receiveWindow(window: Window, partial: PartialBlob, known: { hash: string; size?: number }, opts: FetchBlobOptions, more: (end: number) => void): Promise<void> {
  const { stream, lp } = window;
  try {
    if (window.offset !== partial.size) throw new Error(`window at ${window.offset} does not continue the ${partial.size} bytes received`);
    const res = BlobResponse.parse(JSON.parse(new TextDecoder().decode((await lp.read({ signal: opts.signal })).subarray())));
    if (res.status !== 'ok') throw new Error(`${res.status}: ${res.message}`);
    if (res.offset !== window.offset) throw new Error(`provider answered from offset ${res.offset}, asked ${window.offset}`);
    if (known.size !== undefined && res.size !== known.size) throw new Error(`provider says ${res.size} bytes, where the blob is ${known.size}`);
    if (res.size > opts.maxBytes) throw new Error(`provider offers ${res.size} bytes, over the limit of ${opts.maxBytes}`);
    if (res.length > BLOB_WINDOW_BYTES || res.offset + res.length > res.size) throw new Error(`provider announced ${res.length} bytes, more than asked or than the blob has`);
    if (res.length === 0 && res.offset < res.size) throw new Error('provider sent an empty window before the end of the blob');
    known.size = res.size;
    const end = res.offset + res.length;
    let asked = end >= res.size;
    while (partial.size < end) {
      // Ask for the next window near the end of this one: soon enough that its first bytes
      // follow this window's last, late enough that little of it waits in memory meanwhile.
      if (!asked && end - partial.size <= PIPELINE_LEAD_BYTES) {
        asked = true;
        more(end);
      }
      throwIfAborted(opts.signal, 'blob fetch');
      const chunk = await lp.read({ signal: opts.signal });
      if (partial.size + chunk.byteLength > end) throw new Error('provider sent more bytes than it announced');
      for (const buf of chunk) partial.append(buf);
      opts.onProgress?.(partial.size, res.size);
      // A disk slower than the network: let the file catch up before taking more.
      if (partial.backlog > BLOB_WINDOW_BYTES) await partial.written();
    }
    if (!asked) more(end);
    await stream.close().catch(() => undefined);
  } catch (err) {
    stream.abort(err instanceof Error ? err : new Error(String(err)));
    throw err;
  }
}
