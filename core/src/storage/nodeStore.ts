import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './atomicFile.js';
import { BlobStore } from './blobStore.js';
import { decodeCheckedJson, encodeCheckedJson } from './checkedJson.js';
import { quarantineFile, type OnCorruptFile } from './quarantine.js';
import { BadInputError, CorruptFileError } from '../util/errors.js';

/** One stored host checkpoint: its round, the host's `seq` when written, and its file. */
export interface CheckpointFile {
  readonly round: number;
  readonly seq: number;
  readonly file: string;
}

/** A checkpoint passed over on restore, and why. */
export interface SkippedCheckpoint {
  readonly file: string;
  readonly problem: string;
}

/**
 * Everything a node keeps under its data directory:
 *
 * ```
 * <dataDir>/peer-key                    libp2p identity (see net/identity.ts)
 * <dataDir>/blobs/, partial/            content-addressed blobs and downloads in progress
 * <dataDir>/jobs/<job>/<role>.json      the latest state of each role this node plays in a job
 * <dataDir>/jobs/<job>/checkpoint-<round>-<seq>.json   host checkpoints, the last few writes
 * <dataDir>/jobs/<job>/journal-<role>.json             a client's, worker's or distributor's journal (PROTOCOL.md §6.14)
 * <dataDir>/jobs/<root id>/retention.json               which round last used each parameter blob (retention)
 * <dataDir>/receipts/<id>.json          consent receipts
 * <dataDir>/quarantine/                 files that failed their check on read, moved aside
 * ```
 *
 * Every write is atomic (write, fsync, rename), so a node killed at any moment restarts
 * from the last complete state. Every JSON file carries a checksum (checkedJson.ts) and every
 * blob is its own hash, checked on read: a file that fails is quarantined and reported through
 * `onCorrupt`, never used.
 */
export class NodeStore {
  readonly blobs: BlobStore;
  private readonly onCorrupt: OnCorruptFile | undefined;

  constructor(
    readonly dataDir: string,
    private readonly keepCheckpoints = 3,
    options: { onCorrupt?: OnCorruptFile } = {},
  ) {
    this.onCorrupt = options.onCorrupt;
    this.blobs = new BlobStore(dataDir, options);
  }

  /** Saves a role's state in a job, replacing the previous one. */
  async saveState(job: string, role: string, state: unknown): Promise<void> {
    await writeFileAtomic(join(this.jobDir(job), `${safeName(role)}.json`), encodeCheckedJson(state));
  }

  /**
   * Loads a role's saved state, or undefined. A corrupt file is quarantined and
   * {@link CorruptFileError} thrown, never ignored.
   */
  async loadState<T>(job: string, role: string): Promise<T | undefined> {
    return this.readChecked<T>(join(this.jobDir(job), `${safeName(role)}.json`));
  }

  /** Jobs that have saved state, by name. */
  async jobs(): Promise<string[]> {
    try {
      return (await readdir(join(this.dataDir, 'jobs'))).map((d) => decodeURIComponent(d)).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }

  /**
   * Writes a host checkpoint and prunes all but the newest few writes. Each write is its own
   * file (named by round and the host's `seq`), so when the newest is lost the one before it,
   * usually of the same round, is still there.
   */
  async saveCheckpoint(job: string, round: number, checkpoint: unknown, seq = 0): Promise<void> {
    const dir = this.jobDir(job);
    await writeFileAtomic(join(dir, checkpointName(round, seq)), encodeCheckedJson(checkpoint));
    const files = await this.checkpoints(job);
    for (const old of files.slice(this.keepCheckpoints)) await rm(join(dir, old.file), { force: true });
  }

  /** The newest checkpoint of a job, or undefined; a corrupt one throws (see {@link restoreCheckpoint}). */
  async latestCheckpoint<T>(job: string): Promise<{ round: number; checkpoint: T } | undefined> {
    const newest = (await this.checkpoints(job))[0];
    if (newest === undefined) return undefined;
    const checkpoint = await this.readChecked<T>(join(this.jobDir(job), newest.file));
    return checkpoint === undefined ? undefined : { round: newest.round, checkpoint };
  }

  /**
   * Restores from the newest checkpoint that reads intact and that `use` accepts (it throws
   * for one it cannot use), newest first. A corrupt file is quarantined; every one passed
   * over is returned with why, so the caller can say what it restored from.
   */
  async restoreCheckpoint<R>(job: string, use: (checkpoint: unknown) => R): Promise<{ restored: { value: R; from: CheckpointFile } | undefined; skipped: SkippedCheckpoint[] }> {
    const skipped: SkippedCheckpoint[] = [];
    for (const cp of await this.checkpoints(job)) {
      try {
        const value = await this.readChecked<unknown>(join(this.jobDir(job), cp.file));
        if (value === undefined) continue;
        return { restored: { value: use(value), from: cp }, skipped };
      } catch (err) {
        skipped.push({ file: cp.file, problem: err instanceof CorruptFileError ? err.problem : (err as Error).message });
      }
    }
    return { restored: undefined, skipped };
  }

  /** A job's stored checkpoints, newest first (by round, then seq). */
  async checkpoints(job: string): Promise<CheckpointFile[]> {
    let names: string[];
    try {
      names = await readdir(this.jobDir(job));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    return names
      .flatMap((file) => {
        const m = /^checkpoint-(\d+)(?:-(\d+))?\.json$/.exec(file);
        return m ? [{ round: Number(m[1]), seq: Number(m[2] ?? 0), file }] : [];
      })
      .sort((a, b) => b.round - a.round || b.seq - a.seq);
  }

  /** Rounds that have a checkpoint, ascending. */
  async checkpointRounds(job: string): Promise<number[]> {
    return [...new Set((await this.checkpoints(job)).map((c) => c.round))].sort((a, b) => a - b);
  }

  /** Saves a consent receipt under its id. */
  async saveReceipt(id: string, receipt: unknown): Promise<void> {
    await writeFileAtomic(join(this.dataDir, 'receipts', `${safeName(id)}.json`), encodeCheckedJson(receipt, { pretty: true }));
  }

  /** All stored consent receipts; a corrupt one is quarantined (and reported) and left out. */
  async receipts<T>(): Promise<T[]> {
    const dir = join(this.dataDir, 'receipts');
    await mkdir(dir, { recursive: true });
    const out: T[] = [];
    for (const name of (await readdir(dir)).filter((n) => n.endsWith('.json')).sort()) {
      const r = await this.readChecked<T>(join(dir, name)).catch((err: unknown) => {
        if (err instanceof CorruptFileError) return undefined;
        throw err;
      });
      if (r !== undefined) out.push(r);
    }
    return out;
  }

  // A missing file is undefined; a corrupt one is quarantined and thrown.
  private async readChecked<T>(path: string): Promise<T | undefined> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    const decoded = decodeCheckedJson(text);
    if (!decoded.ok) throw await quarantineFile(this.dataDir, path, decoded.problem, this.onCorrupt);
    return decoded.value as T;
  }

  private jobDir(job: string): string {
    return join(this.dataDir, 'jobs', safeName(job));
  }
}

// Job names contain '#'; roles and ids are ours. Encode so no name can escape its folder.
function safeName(name: string): string {
  if (name.length === 0 || name.length > 200) throw new BadInputError(`name "${name.slice(0, 40)}" must be 1 to 200 characters`);
  return encodeURIComponent(name).replace(/\./g, '%2E');
}

function checkpointName(round: number, seq: number): string {
  return `checkpoint-${String(round).padStart(8, '0')}-${String(Math.max(0, Math.floor(seq))).padStart(16, '0')}.json`;
}
