import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic, syncDir } from './atomicFile.js';
import { BadInputError } from '../util/errors.js';
import { sha256Hasher, sha256Hex, type Sha256Hasher } from '../util/hash.js';
import { SHA256_HEX, type BlobRef } from '../spec/blobRef.js';

/** Throws unless `hash` is a lowercase sha256 hex digest (64 characters). */
export function assertBlobHash(hash: string): void {
  if (!SHA256_HEX.test(hash)) throw new BadInputError(`"${hash.slice(0, 80)}" is not a sha256 hex digest (64 characters 0-9a-f)`);
}

/**
 * Content-addressed blob storage under a directory: `blobs/<first 2 hex>/<hash>`.
 * Complete blobs are written atomically and are immutable. Downloads in progress live in
 * `partial/<hash>` so an interrupted fetch resumes where it stopped, and are only moved into
 * place after their hash is verified.
 */
export class BlobStore {
  private readonly blobDir: string;
  private readonly partialDir: string;

  constructor(readonly dir: string) {
    this.blobDir = join(dir, 'blobs');
    this.partialDir = join(dir, 'partial');
  }

  /** Stores bytes and returns their address; storing the same bytes twice is a no-op. */
  async put(bytes: Uint8Array): Promise<BlobRef> {
    const hash = sha256Hex(bytes);
    const ref = { hash, size: bytes.byteLength };
    if (await this.has(hash)) return ref;
    await writeFileAtomic(this.pathOf(hash), bytes);
    return ref;
  }

  /** Whether a complete blob is stored. */
  async has(hash: string): Promise<boolean> {
    return (await this.size(hash)) !== undefined;
  }

  /** The stored blob's size, or undefined when absent. */
  async size(hash: string): Promise<number | undefined> {
    assertBlobHash(hash);
    try {
      return (await stat(this.pathOf(hash))).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  /** Reads a whole blob, verifying its hash (a blob corrupted on disk is removed and reported). */
  async get(hash: string): Promise<Uint8Array> {
    assertBlobHash(hash);
    const bytes = await readFile(this.pathOf(hash));
    if (sha256Hex(bytes) !== hash) {
      await rm(this.pathOf(hash), { force: true });
      throw new BadInputError(`blob ${hash} was corrupt on disk and has been removed; fetch it again`);
    }
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Streams bytes `[start, end]` (inclusive; default: to the end) of a stored blob in chunks of at most `chunkSize` bytes. */
  read(hash: string, start = 0, end?: number, chunkSize = 1 << 20): AsyncIterable<Uint8Array> {
    assertBlobHash(hash);
    return createReadStream(this.pathOf(hash), { start, ...(end !== undefined ? { end } : {}), highWaterMark: chunkSize });
  }

  /** Bytes already downloaded for a blob being fetched (0 when none). */
  async partialSize(hash: string): Promise<number> {
    assertBlobHash(hash);
    try {
      return (await stat(join(this.partialDir, hash))).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw err;
    }
  }

  /**
   * Opens (or resumes) a download. Bytes appended to the returned writer are hashed as they
   * arrive; `commit()` verifies the digest and moves the blob into place, or discards the
   * partial file and throws when the bytes do not match their address.
   */
  async openPartial(hash: string): Promise<PartialBlob> {
    assertBlobHash(hash);
    await mkdir(this.partialDir, { recursive: true });
    const path = join(this.partialDir, hash);
    // One handle to read what an earlier attempt kept and to append (O_APPEND: writes go to the end).
    const fh = await open(path, 'a+');
    try {
      const hasher = sha256Hasher();
      // Resuming: the bytes already on disk must be part of the digest.
      const kept = (await fh.stat()).size;
      let size = 0;
      if (kept > 0) {
        const buf = Buffer.allocUnsafe(Math.min(kept, 1 << 20));
        for (;;) {
          const { bytesRead } = await fh.read(buf, 0, buf.byteLength, size);
          if (bytesRead === 0) break;
          hasher.update(buf.subarray(0, bytesRead));
          size += bytesRead;
        }
      }
      return new PartialBlob(this, hash, path, fh, hasher, size);
    } catch (err) {
      await fh.close();
      throw err;
    }
  }

  /** Removes a partial download. */
  async discardPartial(hash: string): Promise<void> {
    assertBlobHash(hash);
    await rm(join(this.partialDir, hash), { force: true });
  }

  /** @internal moves a verified partial file into place. */
  async adopt(hash: string, partialPath: string): Promise<void> {
    const target = this.pathOf(hash);
    await mkdir(join(this.blobDir, hash.slice(0, 2)), { recursive: true });
    await rename(partialPath, target);
    await syncDir(join(this.blobDir, hash.slice(0, 2)));
  }

  private pathOf(hash: string): string {
    return join(this.blobDir, hash.slice(0, 2), hash);
  }
}

// Bytes written between two background data syncs of a download: the final sync before the
// blob is adopted then has at most this much left to flush, instead of the whole blob.
const SYNC_EVERY_BYTES = 8 << 20;

// Appended bytes are written once this many have gathered (or when asked to be written).
const WRITE_BATCH_BYTES = 1 << 20;

/**
 * A download in progress; see {@link BlobStore.openPartial}. Appended bytes are hashed at once
 * and written to the file in the background, in order, while the caller receives the next
 * ones; the file is therefore always a prefix of what was appended, which is what a resume
 * re-reads.
 */
export class PartialBlob {
  private closed = false;
  private queue: Uint8Array[] = [];
  private queued = 0;
  private writer: Promise<void> | undefined;
  private syncing: Promise<void> | undefined;
  private unsynced = 0;
  private failure: Error | undefined;

  constructor(
    private readonly store: BlobStore,
    readonly hash: string,
    private readonly path: string,
    private readonly fh: FileHandle,
    private readonly hasher: Sha256Hasher,
    /** Bytes received so far, including those from earlier attempts (some may still be on their way to the file). */
    public size: number,
  ) {}

  /** Bytes appended but not yet written to the file. */
  get backlog(): number {
    return this.queued;
  }

  /**
   * Accepts received bytes: hashes them now and queues them for the file. The caller must not
   * modify `chunk` afterwards. Throws the error of an earlier write (a full disk, say).
   */
  append(chunk: Uint8Array): void {
    if (this.failure) throw this.failure;
    if (this.closed) throw new Error('partial blob is closed');
    if (chunk.byteLength === 0) return;
    this.hasher.update(chunk);
    this.size += chunk.byteLength;
    this.queue.push(chunk);
    this.queued += chunk.byteLength;
    // Small pieces (a network read is often 64 KiB) are gathered into one write.
    if (this.queued >= WRITE_BATCH_BYTES) this.writer ??= this.drainQueue();
  }

  /** Resolves once every appended byte is in the file; throws a write error. */
  async written(): Promise<void> {
    while (this.queue.length > 0 && !this.failure) await (this.writer ??= this.drainQueue());
    while (this.writer) await this.writer;
    if (this.failure) throw this.failure;
  }

  private async drainQueue(): Promise<void> {
    try {
      while (this.queue.length > 0 && !this.failure) {
        const batch = this.queue;
        this.queue = [];
        const bytes = batch.reduce((n, b) => n + b.byteLength, 0);
        await writeAll(this.fh, batch);
        this.queued -= bytes;
        this.unsynced += bytes;
        if (this.unsynced >= SYNC_EVERY_BYTES && !this.syncing) {
          this.unsynced = 0;
          // Not awaited: the disk flushes while the next bytes arrive. A failure is kept and
          // reported by the next append, written() or commit().
          this.syncing = this.fh.datasync().then(
            () => {
              this.syncing = undefined;
            },
            (err: unknown) => {
              this.syncing = undefined;
              this.failure ??= err instanceof Error ? err : new Error(String(err));
            },
          );
        }
      }
    } catch (err) {
      this.failure ??= err instanceof Error ? err : new Error(String(err));
    } finally {
      this.writer = undefined;
    }
  }

  /** Keeps what was received so far (what reached the file) for a later resume. */
  async suspend(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.written().catch(() => undefined);
    await this.syncing;
    await this.fh.sync().catch(() => undefined);
    await this.fh.close();
  }

  /** Verifies the digest and stores the blob; on mismatch discards everything and throws. */
  async commit(): Promise<BlobRef> {
    if (!this.closed) {
      try {
        await this.written();
        await this.syncing;
        if (this.failure) throw this.failure;
        await this.fh.sync();
      } catch (err) {
        await this.suspend();
        throw err;
      }
      this.closed = true;
      await this.fh.close();
    }
    const digest = this.hasher.digestHex();
    if (digest !== this.hash) {
      await rm(this.path, { force: true });
      throw new BadInputError(`received bytes hash to ${digest}, not the requested ${this.hash}; discarded them`);
    }
    await this.store.adopt(this.hash, this.path);
    return { hash: this.hash, size: this.size };
  }
}

// Writes every byte of `bufs` at the file's end, however many calls that takes.
async function writeAll(fh: FileHandle, bufs: Uint8Array[]): Promise<void> {
  let rest = bufs;
  while (rest.length > 0) {
    const { bytesWritten } = await fh.writev(rest);
    let n = bytesWritten;
    while (rest.length > 0 && n >= rest[0]!.byteLength) {
      n -= rest[0]!.byteLength;
      rest = rest.slice(1);
    }
    if (n > 0) rest = [rest[0]!.subarray(n), ...rest.slice(1)];
    else if (bytesWritten === 0) throw new Error('the disk accepted no bytes');
  }
}
