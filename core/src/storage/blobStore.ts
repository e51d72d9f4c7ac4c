import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic, syncDir } from './atomicFile.js';
import { quarantineFile, type OnCorruptFile } from './quarantine.js';
import { BadInputError, type CorruptFileError } from '../util/errors.js';
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
 *
 * A stored blob is checked against its address when read: {@link get} hashes every read,
 * {@link size} (and so {@link has}, and what the blob exchange serves) hashes a file the
 * first time it sees it and again whenever its size, mtime or inode changes. A blob that does
 * not match is moved to `quarantine/`, reported through `onCorrupt`, and from then on absent,
 * so it is never served and the next fetch gets it again from a provider.
 */
export class BlobStore {
  private readonly blobDir: string;
  private readonly partialDir: string;
  /** Blobs found intact, by hash: the file's size, mtime and inode when it was hashed. */
  private readonly verified = new Map<string, string>();

  constructor(
    readonly dir: string,
    private readonly options: { onCorrupt?: OnCorruptFile } = {},
  ) {
    this.blobDir = join(dir, 'blobs');
    this.partialDir = join(dir, 'partial');
  }

  /** Stores bytes and returns their address; storing the same bytes twice is a no-op. */
  async put(bytes: Uint8Array): Promise<BlobRef> {
    const hash = sha256Hex(bytes);
    const ref = { hash, size: bytes.byteLength };
    if (await this.has(hash)) return ref;
    await writeFileAtomic(this.pathOf(hash), bytes);
    const st = await stat(this.pathOf(hash));
    this.verified.set(hash, `${st.size}:${st.mtimeMs}:${st.ino}`);
    return ref;
  }

  /** Whether a complete blob is stored. */
  async has(hash: string): Promise<boolean> {
    return (await this.size(hash)) !== undefined;
  }

  /** The stored blob's size, or undefined when absent (or found corrupt, and quarantined). */
  async size(hash: string): Promise<number | undefined> {
    assertBlobHash(hash);
    const path = this.pathOf(hash);
    let st;
    try {
      st = await stat(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    const signature = `${st.size}:${st.mtimeMs}:${st.ino}`;
    if (this.verified.get(hash) === signature) return st.size;
    const digest = await hashFile(path);
    if (digest !== hash) {
      await this.quarantine(hash, `its bytes hash to ${digest.slice(0, 12)}…`);
      return undefined;
    }
    this.verified.set(hash, signature);
    return st.size;
  }

  /** Reads a whole blob, verifying its hash; a corrupt one is quarantined and {@link CorruptFileError} thrown. */
  async get(hash: string): Promise<Uint8Array> {
    assertBlobHash(hash);
    const bytes = await readFile(this.pathOf(hash));
    const digest = sha256Hex(bytes);
    if (digest !== hash) throw await this.quarantine(hash, `its bytes hash to ${digest.slice(0, 12)}…`);
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Removes a stored blob (retention); absent is fine. */
  async remove(hash: string): Promise<void> {
    assertBlobHash(hash);
    this.verified.delete(hash);
    await rm(this.pathOf(hash), { force: true });
  }

  /** Every stored blob, with its size in bytes (not verified: a listing). */
  async list(): Promise<{ hash: string; size: number }[]> {
    const out: { hash: string; size: number }[] = [];
    for (const prefix of await readdirOrEmpty(this.blobDir)) {
      for (const name of await readdirOrEmpty(join(this.blobDir, prefix))) {
        if (!SHA256_HEX.test(name)) continue;
        const st = await stat(join(this.blobDir, prefix, name)).catch(() => undefined);
        if (st) out.push({ hash: name, size: st.size });
      }
    }
    return out;
  }

  private async quarantine(hash: string, problem: string): Promise<CorruptFileError> {
    this.verified.delete(hash);
    return quarantineFile(this.dir, this.pathOf(hash), problem, this.options.onCorrupt);
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
    // Just verified as it arrived: no need to hash it again on the next size().
    const st = await stat(target);
    this.verified.set(hash, `${st.size}:${st.mtimeMs}:${st.ino}`);
  }

  private pathOf(hash: string): string {
    return join(this.blobDir, hash.slice(0, 2), hash);
  }
}

async function hashFile(path: string): Promise<string> {
  const hasher = sha256Hasher();
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) hasher.update(chunk);
  return hasher.digestHex();
}

async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
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
