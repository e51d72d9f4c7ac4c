import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createCanopyNode, type CanopyLibp2p } from './createNode.js';
import { lpStream } from '@libp2p/utils';
import { fetchBlob, serveBlobs, BlobFetchError, BLOB_CHUNK_BYTES, BLOB_PROTOCOL, BLOB_WINDOW_BYTES } from './blobExchange.js';
import { BlobStore } from '../storage/blobStore.js';
import { sha256Hex } from '../util/hash.js';
import { CanopyError } from '../util/errors.js';

// Real libp2p nodes over TCP on 127.0.0.1, in one process.
describe('blob exchange', () => {
  let dir: string;
  const nodes: CanopyLibp2p[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'canopy-blob-'));
  });
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.stop()));
    await rm(dir, { recursive: true, force: true });
  });

  async function peer(name: string) {
    const node = await createCanopyNode({ listen: ['/ip4/127.0.0.1/tcp/0'] });
    nodes.push(node);
    const store = new BlobStore(join(dir, name));
    await serveBlobs(node, store);
    return { node, store };
  }

  async function connect(a: CanopyLibp2p, b: CanopyLibp2p) {
    await a.dial(b.getMultiaddrs()[0]!);
  }

  it('carries on from the same provider when the connection under a transfer is closed', async () => {
    // What an AutoNAT dial-back connection closing, or a relayed connection being replaced, does to a fetch.
    const provider = await peer('cut-p');
    const fetcher = await peer('cut-f');
    await connect(fetcher.node, provider.node);
    const bytes = randomBytes(6 * BLOB_WINDOW_BYTES);
    const ref = await provider.store.put(bytes);
    const fetching = fetchBlob(fetcher.node, fetcher.store, ref, [provider.node.peerId], { maxBytes: 64 << 20 });
    let kept = 0;
    while (kept === 0) {
      await new Promise((r) => setTimeout(r, 2));
      kept = await fetcher.store.partialSize(ref.hash);
    }
    const cutIds = provider.node.getConnections(fetcher.node.peerId).map((c) => c.id);
    await Promise.all(provider.node.getConnections(fetcher.node.peerId).map((c) => c.abort(new Error('cut'))));
    expect(kept, 'the cut came mid-transfer').toBeLessThan(bytes.length);
    await expect(fetching).resolves.toMatchObject({ hash: ref.hash, size: bytes.length });
    expect(Buffer.from(await fetcher.store.get(ref.hash)).equals(bytes)).toBe(true);
    expect(fetcher.node.getConnections(provider.node.peerId).every((c) => !cutIds.includes(c.id)), 'finished over a new connection').toBe(true);
  });

  it('fetches a multi-chunk blob and verifies it', async () => {
    const provider = await peer('p');
    const fetcher = await peer('f');
    await connect(fetcher.node, provider.node);
    const bytes = randomBytes(5 * 1024 * 1024 + 123);
    const ref = await provider.store.put(bytes);
    const progress: number[] = [];
    const got = await fetchBlob(fetcher.node, fetcher.store, ref, [provider.node.peerId], { maxBytes: 10 << 20, onProgress: (r) => progress.push(r) });
    expect(got).toEqual({ ...ref, relayed: false });
    expect(Buffer.from(await fetcher.store.get(ref.hash)).equals(bytes)).toBe(true);
    expect(progress.length).toBeGreaterThan(4);
    expect(progress.at(-1)).toBe(bytes.length);
  });

  it('moves a blob many windows long, with bounded buffers', async () => {
    const provider = await peer('p');
    const fetcher = await peer('f');
    await connect(fetcher.node, provider.node);
    const bytes = randomBytes(3 * BLOB_WINDOW_BYTES + 12345);
    const ref = await provider.store.put(bytes);
    const got = await fetchBlob(fetcher.node, fetcher.store, ref, [provider.node.peerId], { maxBytes: 64 << 20 });
    expect(got).toEqual({ ...ref, relayed: false });
    expect(Buffer.from(await fetcher.store.get(ref.hash)).equals(bytes)).toBe(true);
  });

  it('resumes an interrupted fetch from where it stopped', async () => {
    const provider = await peer('p');
    const fetcher = await peer('f');
    await connect(fetcher.node, provider.node);
    const bytes = randomBytes(6 * 1024 * 1024);
    const ref = await provider.store.put(bytes);
    const abort = new AbortController();
    await expect(
      fetchBlob(fetcher.node, fetcher.store, ref, [provider.node.peerId], {
        maxBytes: 10 << 20,
        signal: abort.signal,
        onProgress: (r) => {
          if (r >= 2 * 1024 * 1024) abort.abort();
        },
      }),
    ).rejects.toThrow(CanopyError);
    const kept = await fetcher.store.partialSize(ref.hash);
    expect(kept).toBeGreaterThanOrEqual(2 * 1024 * 1024);
    expect(kept).toBeLessThan(bytes.length);

    let first = -1;
    await fetchBlob(fetcher.node, fetcher.store, ref, [provider.node.peerId], {
      maxBytes: 10 << 20,
      onProgress: (r) => {
        if (first < 0) first = r;
      },
    });
    expect(first).toBeGreaterThan(kept); // the second attempt did not start from zero
    expect(Buffer.from(await fetcher.store.get(ref.hash)).equals(bytes)).toBe(true);
  });

  it('refuses corrupt bytes and falls back to another provider', async () => {
    const liar = await peer('liar');
    const honest = await peer('honest');
    const fetcher = await peer('f');
    await connect(fetcher.node, liar.node);
    await connect(fetcher.node, honest.node);
    const bytes = randomBytes(300_000);
    const hash = sha256Hex(bytes);
    // The liar holds a file under that address whose content was altered.
    const bad = Buffer.from(bytes);
    bad[1000] = bad[1000]! ^ 0xff;
    await mkdir(join(dir, 'liar', 'blobs', hash.slice(0, 2)), { recursive: true });
    await writeFile(join(dir, 'liar', 'blobs', hash.slice(0, 2), hash), bad);
    await honest.store.put(bytes);

    const got = await fetchBlob(fetcher.node, fetcher.store, { hash, size: bytes.length }, [liar.node.peerId, honest.node.peerId], { maxBytes: 1 << 20 });
    expect(got.hash).toBe(hash);
    expect(Buffer.from(await fetcher.store.get(hash)).equals(bytes)).toBe(true);
  });

  it('reports every provider that failed when none can deliver', async () => {
    const empty = await peer('empty');
    const fetcher = await peer('f');
    await connect(fetcher.node, empty.node);
    const hash = sha256Hex(randomBytes(10));
    const err = await fetchBlob(fetcher.node, fetcher.store, { hash }, [empty.node.peerId], { maxBytes: 1000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BlobFetchError);
    expect((err as Error).message).toMatch(/not_found/);
  });

  it('refuses a blob over the size limit before downloading it', async () => {
    const provider = await peer('p');
    const fetcher = await peer('f');
    await connect(fetcher.node, provider.node);
    const ref = await provider.store.put(randomBytes(50_000));
    // size unknown to the requester: the provider's announced size is checked
    const err = await fetchBlob(fetcher.node, fetcher.store, { hash: ref.hash }, [provider.node.peerId], { maxBytes: 10_000 }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/over the limit/);
    expect(await fetcher.store.partialSize(ref.hash)).toBe(0);
    // size known: refused without contacting anyone
    await expect(fetchBlob(fetcher.node, fetcher.store, ref, [], { maxBytes: 10_000 })).rejects.toThrow(/over this job's limit/);
  });

  it('lets the provider deny a peer', async () => {
    const node = await createCanopyNode({ listen: ['/ip4/127.0.0.1/tcp/0'] });
    nodes.push(node);
    const store = new BlobStore(join(dir, 'private'));
    await serveBlobs(node, store, { authorize: () => false });
    const fetcher = await peer('f');
    await connect(fetcher.node, node);
    const ref = await store.put(randomBytes(1000));
    await expect(fetchBlob(fetcher.node, fetcher.store, ref, [node.peerId], { maxBytes: 1 << 20 })).rejects.toThrow(/denied/);
    expect(await fetcher.store.has(ref.hash)).toBe(false);
  });

  // A provider written against the wire format (PROTOCOL.md §12) that serves `bytes` from memory;
  // `lie` may change a window's header or cut its data, given the request and the window's index.
  interface Lie {
    header?: (h: { v: 1; status: 'ok'; size: number; offset: number; length: number }) => object;
    /** Data bytes of this window to send before resetting the stream. */
    cutAfter?: number;
  }
  // With `holdLast`, each window's last frame waits (up to 3 s) until the next window is asked
  // for; `seen.unfinished` counts, per request, the windows already asked whose last frame was
  // not yet sent.
  async function scripted(bytes: Uint8Array, lie: (req: { offset: number; length: number }, index: number) => Lie = () => ({}), holdLast = false) {
    const node = await createCanopyNode({ listen: ['/ip4/127.0.0.1/tcp/0'] });
    nodes.push(node);
    const seen = { offsets: [] as number[], unfinished: [] as number[], heldInVain: 0 };
    const asked = new Map<number, () => void>(); // offset -> releases the window ending there
    let unfinished = 0;
    await node.handle(
      BLOB_PROTOCOL,
      async (stream) => {
        const index = seen.offsets.length;
        try {
          const lp = lpStream(stream, { maxDataLength: BLOB_CHUNK_BYTES });
          const req = JSON.parse(new TextDecoder().decode((await lp.read()).subarray())) as { offset: number; length: number };
          seen.offsets.push(req.offset);
          seen.unfinished.push(unfinished);
          asked.get(req.offset)?.();
          unfinished++;
          const how = lie(req, index);
          const length = Math.min(req.length, bytes.length - req.offset);
          const header = { v: 1 as const, status: 'ok' as const, size: bytes.length, offset: req.offset, length };
          await lp.write(new TextEncoder().encode(JSON.stringify(how.header ? how.header(header) : header)));
          let sent = 0;
          for (let at = req.offset; at < req.offset + length; at += BLOB_CHUNK_BYTES) {
            let chunk = bytes.subarray(at, Math.min(at + BLOB_CHUNK_BYTES, req.offset + length));
            if (how.cutAfter !== undefined && sent + chunk.length > how.cutAfter) chunk = chunk.subarray(0, how.cutAfter - sent);
            const last = at + BLOB_CHUNK_BYTES >= req.offset + length;
            const end = req.offset + length;
            if (holdLast && last && end < bytes.length) {
              const next = await new Promise<boolean>((resolve) => {
                const timer = setTimeout(() => resolve(false), 3000);
                asked.set(end, () => {
                  clearTimeout(timer);
                  resolve(true);
                });
              });
              if (!next) seen.heldInVain++;
            }
            if (last) unfinished--;
            if (chunk.length > 0) await lp.write(chunk);
            sent += chunk.length;
            if (how.cutAfter !== undefined && sent >= how.cutAfter) {
              await new Promise((r) => setTimeout(r, 50)); // let the frames reach the requester first
              stream.abort(new Error('cut'));
              return;
            }
          }
          await stream.close();
        } catch (err) {
          stream.abort(err as Error);
        }
      },
      { maxInboundStreams: 32 },
    );
    return { node, seen };
  }

  it('keeps the next window requested while one arrives, never more than two at a time', async () => {
    const bytes = randomBytes(4 * BLOB_WINDOW_BYTES + 1000);
    const provider = await scripted(bytes, () => ({}), true);
    const fetcher = await peer('f');
    await connect(fetcher.node, provider.node);
    const got = await fetchBlob(fetcher.node, fetcher.store, { hash: sha256Hex(bytes) }, [provider.node.peerId], { maxBytes: 64 << 20 });
    expect(got.size).toBe(bytes.length);
    expect(provider.seen.offsets).toEqual([0, 1, 2, 3, 4].map((i) => i * BLOB_WINDOW_BYTES));
    // each next window was asked for before the current one's last frame was sent …
    expect(provider.seen.heldInVain).toBe(0);
    // … and only then: one window unfinished when the next is asked for, never two
    expect(provider.seen.unfinished).toEqual([0, 1, 1, 1, 1]);
    expect(Buffer.from(await fetcher.store.get(got.hash)).equals(bytes)).toBe(true);
  });

  it('resumes a stream cut mid-window from the last byte it kept', async () => {
    const bytes = randomBytes(2 * BLOB_WINDOW_BYTES + 5000);
    const cutAt = 3 * BLOB_CHUNK_BYTES;
    const provider = await scripted(bytes, (_req, index) => (index === 0 ? { cutAfter: cutAt } : {}));
    const fetcher = await peer('f');
    await connect(fetcher.node, provider.node);
    const ref = { hash: sha256Hex(bytes), size: bytes.length };
    await expect(fetchBlob(fetcher.node, fetcher.store, ref, [provider.node.peerId], { maxBytes: 64 << 20 })).rejects.toThrow(BlobFetchError);
    expect(await fetcher.store.partialSize(ref.hash)).toBe(cutAt);
    expect(await fetcher.store.has(ref.hash)).toBe(false);

    await fetchBlob(fetcher.node, fetcher.store, ref, [provider.node.peerId], { maxBytes: 64 << 20 });
    // the first request of the second attempt starts where the cut left off
    const second = provider.seen.offsets.indexOf(cutAt);
    expect(second).toBeGreaterThan(0);
    expect(provider.seen.offsets.slice(second)).toEqual([cutAt, cutAt + BLOB_WINDOW_BYTES]);
    expect(Buffer.from(await fetcher.store.get(ref.hash)).equals(bytes)).toBe(true);
    expect(await fetcher.store.partialSize(ref.hash)).toBe(0);
  });

  it('rejects a provider whose pipelined window lies, and finishes from an honest one', async () => {
    const bytes = randomBytes(BLOB_WINDOW_BYTES + 300_000);
    const ref = { hash: sha256Hex(bytes), size: bytes.length };
    const lies: [string, (req: { offset: number; length: number }, index: number) => Lie, RegExp][] = [
      ['answers from another offset', (_r, i) => (i === 1 ? { header: (h) => ({ ...h, offset: 0 }) } : {}), /answered from offset 0/],
      ['announces another size', (_r, i) => (i === 1 ? { header: (h) => ({ ...h, size: h.size + 1 }) } : {}), /provider says .* where the blob is/],
      ['announces more than a window', (_r, i) => (i === 1 ? { header: (h) => ({ ...h, length: BLOB_WINDOW_BYTES + 1 }) } : {}), /more than asked/],
      ['announces an empty window', (_r, i) => (i === 1 ? { header: (h) => ({ ...h, length: 0 }) } : {}), /empty window/],
    ];
    const honest = await peer('honest');
    await honest.store.put(bytes);
    // with the size unknown to the requester, the first window's header sets it
    lies.push(['changes the size it announced', (_r, i) => (i === 1 ? { header: (h) => ({ ...h, size: h.size - 1, length: h.length - 1 }) } : {}), /provider says .* where the blob is/]);
    for (const [what, lie, reason] of lies) {
      const liar = await scripted(bytes, lie);
      const fetcher = await peer(`f-${what}`);
      await connect(fetcher.node, liar.node);
      await connect(fetcher.node, honest.node);
      const asked = what === 'changes the size it announced' ? { hash: ref.hash } : ref;
      const err = await fetchBlob(fetcher.node, fetcher.store, asked, [liar.node.peerId], { maxBytes: 64 << 20 }).catch((e: unknown) => e);
      expect(err, what).toBeInstanceOf(BlobFetchError);
      expect((err as Error).message, what).toMatch(reason);
      // the honest provider continues from what the liar's first window delivered
      expect(await fetcher.store.partialSize(ref.hash), what).toBe(BLOB_WINDOW_BYTES);
      const got = await fetchBlob(fetcher.node, fetcher.store, ref, [liar.node.peerId, honest.node.peerId], { maxBytes: 64 << 20 });
      expect(got.hash, what).toBe(ref.hash);
      expect(Buffer.from(await fetcher.store.get(ref.hash)).equals(bytes), what).toBe(true);
    }
  });

  it('rejects a provider that sends more bytes than it announced', async () => {
    const bytes = randomBytes(BLOB_WINDOW_BYTES + 10);
    const provider = await scripted(bytes, (_r, i) => (i === 0 ? { header: (h) => ({ ...h, length: 1000 }) } : {}));
    const fetcher = await peer('f');
    await connect(fetcher.node, provider.node);
    const err = await fetchBlob(fetcher.node, fetcher.store, { hash: sha256Hex(bytes) }, [provider.node.peerId], { maxBytes: 64 << 20 }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/more bytes than it announced/);
    expect(await fetcher.store.partialSize(sha256Hex(bytes))).toBe(0);
  });
});
