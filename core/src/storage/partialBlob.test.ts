import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { BlobStore } from './blobStore.js';
import { sha256Hex } from '../util/hash.js';
import { BadInputError } from '../util/errors.js';

// Downloads in progress: bytes are hashed on arrival and written in the background, in order.
describe('partial blobs', () => {
  let dir: string;
  let store: BlobStore;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'canopy-blobstore-'));
    store = new BlobStore(dir);
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await rm(dir, { recursive: true, force: true });
  });

  // The prototype of Node's FileHandle, to make the disk misbehave on purpose.
  async function fileHandleProto(): Promise<{ writev: (...args: unknown[]) => Promise<{ bytesWritten: number }> }> {
    const fh = await open(join(dir, 'probe'), 'w');
    await fh.close();
    return Object.getPrototypeOf(fh) as { writev: (...args: unknown[]) => Promise<{ bytesWritten: number }> };
  }

  it('stores appended pieces once their digest matches, and survives suspend and resume', async () => {
    const bytes = randomBytes(3 << 20);
    const hash = sha256Hex(bytes);
    const first = await store.openPartial(hash);
    for (let at = 0; at < 1 << 20; at += 100_000) first.append(bytes.subarray(at, Math.min(at + 100_000, 1 << 20)));
    await first.suspend();
    expect(await store.partialSize(hash)).toBe(1 << 20);

    const again = await store.openPartial(hash);
    expect(again.size).toBe(1 << 20);
    again.append(bytes.subarray(1 << 20));
    expect(await again.commit()).toEqual({ hash, size: bytes.length });
    expect(Buffer.from(await store.get(hash)).equals(bytes)).toBe(true);
    expect(await store.partialSize(hash)).toBe(0);
  });

  it('discards bytes that do not hash to the address', async () => {
    const bytes = randomBytes(10_000);
    const partial = await store.openPartial(sha256Hex(bytes));
    partial.append(randomBytes(10_000));
    await expect(partial.commit()).rejects.toThrow(BadInputError);
    expect(await store.partialSize(sha256Hex(bytes))).toBe(0);
    expect(await store.has(sha256Hex(bytes))).toBe(false);
  });

  it('finishes a write the disk took only in part', async () => {
    const proto = await fileHandleProto();
    const original = proto.writev;
    vi.spyOn(proto, 'writev').mockImplementationOnce(function (this: unknown, bufs: unknown) {
      const list = bufs as Uint8Array[];
      return original.call(this, [list[0]!.subarray(0, 123)]);
    });
    const bytes = randomBytes(200_000);
    const partial = await store.openPartial(sha256Hex(bytes));
    partial.append(bytes.subarray(0, 50_000));
    partial.append(bytes.subarray(50_000));
    expect(await partial.commit()).toEqual({ hash: sha256Hex(bytes), size: bytes.length });
    expect(Buffer.from(await store.get(sha256Hex(bytes))).equals(bytes)).toBe(true);
  });

  it('reports a full disk, keeps only what reached the file, and resumes from there', async () => {
    const bytes = randomBytes(3 << 20);
    const hash = sha256Hex(bytes);
    const proto = await fileHandleProto();
    const partial = await store.openPartial(hash);
    partial.append(bytes.subarray(0, 1 << 20));
    await partial.written();
    vi.spyOn(proto, 'writev').mockRejectedValueOnce(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }));
    partial.append(bytes.subarray(1 << 20, 2 << 20));
    await expect(partial.written()).rejects.toThrow(/ENOSPC/);
    expect(() => partial.append(bytes.subarray(2 << 20))).toThrow(/ENOSPC/);
    await expect(partial.commit()).rejects.toThrow(/ENOSPC/);
    await partial.suspend();
    expect(await store.has(hash)).toBe(false);
    expect(await store.partialSize(hash)).toBe(1 << 20);
    expect(Buffer.from(await readFile(join(dir, 'partial', hash))).equals(bytes.subarray(0, 1 << 20))).toBe(true);

    const resumed = await store.openPartial(hash);
    expect(resumed.size).toBe(1 << 20);
    resumed.append(bytes.subarray(1 << 20));
    expect(await resumed.commit()).toEqual({ hash, size: bytes.length });
  });
});
