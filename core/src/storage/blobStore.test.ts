import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlobStore } from './blobStore.js';
import type { CorruptFileReport } from './quarantine.js';

// Blobs checked on read, with real files damaged on disk the way a failing disk or a
// killed copy damages them.
describe('BlobStore: a blob that does not match its address', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'canopy-blobs-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const bytes = new Uint8Array(100_000).map((_, i) => (i * 7) % 251);
  const pathOf = (hash: string) => join(dir, 'blobs', hash.slice(0, 2), hash);
  const flip = async (hash: string, at: number) => {
    const b = await readFile(pathOf(hash));
    b[at]! ^= 0x01;
    await writeFile(pathOf(hash), b);
  };

  it.each([
    ['one flipped bit', (h: string) => flip(h, 50_000)],
    ['truncated', (h: string) => truncate(pathOf(h), 1000)],
  ])('%s: get quarantines it, reports its path, and it is absent from then on', async (_what, damage) => {
    const reports: CorruptFileReport[] = [];
    const store = new BlobStore(dir, { onCorrupt: (r) => reports.push(r) });
    const { hash } = await store.put(bytes);
    await damage(hash);
    await expect(store.get(hash)).rejects.toMatchObject({ code: 'CORRUPT_FILE', path: pathOf(hash) });
    expect(reports.map((r) => r.path)).toEqual([pathOf(hash)]);
    expect(await store.has(hash)).toBe(false);
    expect(await readdir(join(dir, 'quarantine'))).toHaveLength(1);
    // Stored again (a re-fetch), it is served again.
    await store.put(bytes);
    expect(await store.get(hash)).toEqual(bytes);
  });

  it('size (what the blob exchange asks before serving) finds a blob damaged after it was verified', async () => {
    const reports: CorruptFileReport[] = [];
    const store = new BlobStore(dir, { onCorrupt: (r) => reports.push(r) });
    const { hash } = await store.put(bytes);
    expect(await store.size(hash)).toBe(bytes.length);
    await flip(hash, 3);
    expect(await store.size(hash)).toBeUndefined();
    expect(reports).toHaveLength(1);
  });

  it('a fresh store (a restarted node) checks a blob it has not seen before serving it', async () => {
    const { hash } = await new BlobStore(dir).put(bytes);
    await flip(hash, 99_999);
    const restarted = new BlobStore(dir);
    expect(await restarted.size(hash)).toBeUndefined();
    expect(await restarted.has(hash)).toBe(false);
  });

  it('lists and removes blobs', async () => {
    const store = new BlobStore(dir);
    const a = await store.put(bytes);
    const b = await store.put(new Uint8Array([1, 2, 3]));
    expect((await store.list()).sort((x, y) => x.size - y.size)).toEqual([b, a]);
    await store.remove(a.hash);
    expect(await store.list()).toEqual([b]);
  });
});
