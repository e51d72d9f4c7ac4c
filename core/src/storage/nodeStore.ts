import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './atomicFile.js';
import { BlobStore } from './blobStore.js';
import { BadInputError } from '../util/errors.js';

/**
 * Everything a node keeps under its data directory:
 *
 * ```
 * <dataDir>/peer-key                    libp2p identity (see net/identity.ts)
 * <dataDir>/blobs/, partial/            content-addressed blobs and downloads in progress
 * <dataDir>/jobs/<job>/<role>.json      the latest state of each role this node plays in a job
 * <dataDir>/jobs/<job>/checkpoint-<round>.json   host checkpoints, the last few rounds
 * <dataDir>/receipts/<id>.json          consent receipts
 * ```
 *
 * Every write is atomic (write, fsync, rename), so a node killed at any moment restarts
 * from the last complete state.
 */
export class NodeStore {
  readonly blobs: BlobStore;

  constructor(
    readonly dataDir: string,
    private readonly keepCheckpoints = 3,
  ) {
    this.blobs = new BlobStore(dataDir);
  }

  /** Saves a role's state in a job, replacing the previous one. */
  async saveState(job: string, role: string, state: unknown): Promise<void> {
    await writeFileAtomic(join(this.jobDir(job), `${safeName(role)}.json`), JSON.stringify(state));
  }

  /** Loads a role's saved state, or undefined. A corrupt file is reported, not ignored. */
  async loadState<T>(job: string, role: string): Promise<T | undefined> {
    return readJson<T>(join(this.jobDir(job), `${safeName(role)}.json`));
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

  /** Writes a host checkpoint for a round and prunes all but the newest few. */
  async saveCheckpoint(job: string, round: number, checkpoint: unknown): Promise<void> {
    const dir = this.jobDir(job);
    await writeFileAtomic(join(dir, `checkpoint-${String(round).padStart(8, '0')}.json`), JSON.stringify(checkpoint));
    const rounds = await this.checkpointRounds(job);
    for (const old of rounds.slice(0, Math.max(0, rounds.length - this.keepCheckpoints))) {
      await rm(join(dir, `checkpoint-${String(old).padStart(8, '0')}.json`), { force: true });
    }
  }

  /** The newest checkpoint of a job, or undefined. */
  async latestCheckpoint<T>(job: string): Promise<{ round: number; checkpoint: T } | undefined> {
    const rounds = await this.checkpointRounds(job);
    const round = rounds.at(-1);
    if (round === undefined) return undefined;
    const checkpoint = await readJson<T>(join(this.jobDir(job), `checkpoint-${String(round).padStart(8, '0')}.json`));
    return checkpoint === undefined ? undefined : { round, checkpoint };
  }

  /** Rounds that have a checkpoint, ascending. */
  async checkpointRounds(job: string): Promise<number[]> {
    let names: string[];
    try {
      names = await readdir(this.jobDir(job));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    return names
      .map((n) => /^checkpoint-(\d+)\.json$/.exec(n)?.[1])
      .filter((r): r is string => r !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
  }

  /** Saves a consent receipt under its id. */
  async saveReceipt(id: string, receipt: unknown): Promise<void> {
    await writeFileAtomic(join(this.dataDir, 'receipts', `${safeName(id)}.json`), JSON.stringify(receipt, null, 2));
  }

  /** All stored consent receipts. */
  async receipts<T>(): Promise<T[]> {
    const dir = join(this.dataDir, 'receipts');
    await mkdir(dir, { recursive: true });
    const out: T[] = [];
    for (const name of (await readdir(dir)).filter((n) => n.endsWith('.json')).sort()) {
      const r = await readJson<T>(join(dir, name));
      if (r !== undefined) out.push(r);
    }
    return out;
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

async function readJson<T>(path: string): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    return JSON.parse(text) as T;
  } catch (cause) {
    throw new BadInputError(`${path} is not valid JSON (the file is corrupt); move it away to start that job's state afresh`, { cause });
  }
}
