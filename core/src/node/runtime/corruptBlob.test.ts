import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCanopyNode, type CanopyLibp2p } from '../../net/createNode.js';
import { fetchBlob, serveBlobs } from '../../net/blobExchange.js';
import { BlobStore } from '../../storage/blobStore.js';
import type { CorruptFileReport } from '../../storage/quarantine.js';

// A blob whose bytes flipped on a provider's disk is never served: the provider finds it
// when asked, quarantines it and answers not_found, and the requester gets it intact from
// its next provider. Real libp2p nodes on loopback TCP, real files.
describe('a corrupt blob on a provider', () => {
  let dir: string;
  const nodes: CanopyLibp2p[] = [];
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'canopy-corrupt-serve-'));
  });
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.stop()));
    await rm(dir, { recursive: true, force: true });
  });

  async function peer(name: string, reports?: CorruptFileReport[]) {
    const node = await createCanopyNode({ listen: ['/ip4/127.0.0.1/tcp/0'] });
    nodes.push(node);
    const store = new BlobStore(join(dir, name), reports ? { onCorrupt: (r) => reports.push(r) } : {});
    await serveBlobs(node, store);
    return { node, store };
  }

  it('is quarantined by its provider, not served, and fetched intact from the next provider', async () => {
    const reports: CorruptFileReport[] = [];
    const bad = await peer('bad', reports);
    const good = await peer('good');
    const fetcher = await peer('fetcher');
    await fetcher.node.dial(bad.node.getMultiaddrs()[0]!);
    await fetcher.node.dial(good.node.getMultiaddrs()[0]!);
    const bytes = new Uint8Array(3 * 1024 * 1024).map((_, i) => (i * 31) % 253);
    const ref = await bad.store.put(bytes);
    await good.store.put(bytes);
    // Verified once (as after serving it before), then one bit flips on disk.
    expect(await bad.store.size(ref.hash)).toBe(bytes.length);
    const path = join(dir, 'bad', 'blobs', ref.hash.slice(0, 2), ref.hash);
    const onDisk = await readFile(path);
    onDisk[2_000_000]! ^= 0x04;
    await writeFile(path, onDisk);

    const got = await fetchBlob(fetcher.node, fetcher.store, ref, [bad.node.peerId, good.node.peerId], { maxBytes: 8 << 20 });
    expect(got).toEqual({ ...ref, relayed: false });
    expect(Buffer.from(await fetcher.store.get(ref.hash)).equals(Buffer.from(bytes))).toBe(true);
    expect(reports.map((r) => r.path)).toEqual([path]);
    expect(reports[0]!.quarantinedTo).toMatch(/quarantine/);
    expect(await bad.store.has(ref.hash), 'gone from the provider that held it corrupt').toBe(false);
  }, 60_000);
});
