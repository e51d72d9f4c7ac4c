import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createCanopyNode, type CanopyLibp2p } from './createNode.js';
import { fetchBlob, serveBlobs, BlobFetchError, BLOB_WINDOW_BYTES } from './blobExchange.js';
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

  it('fetches a multi-chunk blob and verifies it', async () => {
    const provider = await peer('p');
    const fetcher = await peer('f');
    await connect(fetcher.node, provider.node);
    const bytes = randomBytes(5 * 1024 * 1024 + 123);
    const ref = await provider.store.put(bytes);
    const progress: number[] = [];
    const got = await fetchBlob(fetcher.node, fetcher.store, ref, [provider.node.peerId], { maxBytes: 10 << 20, onProgress: (r) => progress.push(r) });
    expect(got).toEqual(ref);
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
    expect(got).toEqual(ref);
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
});
