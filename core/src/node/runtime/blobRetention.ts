import type { NodeStore } from '../../storage/nodeStore.js';
/** How long a node keeps a job's parameter blobs: see docs/CLI.md, "Retention". */
export interface RetentionPolicy {
  /** Rounds of each job whose parameter blobs stay after they were last used (default 2). */
  readonly keepRounds: number;
  /** How long a finished job's parameter blobs stay, all but its final model (default 10 min). */
  readonly finishedGraceMs: number;
}

export const DEFAULT_RETENTION: RetentionPolicy = { keepRounds: 2, finishedGraceMs: 10 * 60_000 };

/** A retention table as stored: per blob hash, the last round of each job that used it. */
export type RetentionTable = [hash: string, uses: [job: string, round: number][]][];

/** Where a job tree's retention table lives in the node store (per root id). */
export const RETENTION_RECORD = 'retention';

/**
 * The parameter blobs (globals, client updates, aggregates, inputs lists) one job tree used
 * on this node, and in which round of which of its jobs each was last used, so that a runner
 * can drop those of rounds long past. Dataset chunks and indexes, submissions and manifests
 * are never noted here, so they are never dropped by it.
 */
export class BlobRetention {
  private readonly lastUse = new Map<string, Map<string, number>>();
  /** Bumped on every change of the table (a runner saves it when this moved). */
  changes = 0;

  constructor(readonly keepRounds: number) {}

  /** `hash` was used in `round` of `job`. */
  note(hash: string, job: string, round: number): void {
    let byJob = this.lastUse.get(hash);
    if (!byJob) this.lastUse.set(hash, (byJob = new Map()));
    if ((byJob.get(job) ?? -1) >= round) return;
    byJob.set(job, round);
    this.changes++;
  }

  /** Whether a blob is noted and not yet expired at these rounds. */
  holds(hash: string, roundOf: (job: string) => number): boolean {
    const byJob = this.lastUse.get(hash);
    return byJob !== undefined && !this.isExpired(byJob, roundOf);
  }

  /**
   * Forgets and returns the blobs last used more than `keepRounds` rounds before each of their
   * jobs' current round, except those in `keep`; with `all`, every blob not in `keep`.
   */
  expire(roundOf: (job: string) => number, keep: ReadonlySet<string>, all = false): string[] {
    const out: string[] = [];
    for (const [hash, byJob] of this.lastUse) {
      if (keep.has(hash) || (!all && !this.isExpired(byJob, roundOf))) continue;
      this.lastUse.delete(hash);
      out.push(hash);
    }
    if (out.length > 0) this.changes++;
    return out;
  }

  /** The table as plain JSON (saved with the job, so a restarted node still collects what it noted). */
  toJSON(): RetentionTable {
    return [...this.lastUse].map(([hash, byJob]) => [hash, [...byJob]]);
  }

  /** Adds a saved table's notes (see {@link toJSON}); rows of another shape are skipped, and counted. */
  load(table: unknown): number {
    if (!Array.isArray(table)) return 1;
    let skipped = 0;
    for (const row of table as unknown[]) {
      const ok = Array.isArray(row) && row.length === 2 && typeof row[0] === 'string' && /^[0-9a-f]{64}$/.test(row[0]) && Array.isArray(row[1]);
      if (!ok) {
        skipped++;
        continue;
      }
      for (const use of row[1] as unknown[]) {
        if (Array.isArray(use) && typeof use[0] === 'string' && Number.isInteger(use[1])) this.note(row[0] as string, use[0], use[1] as number);
        else skipped++;
      }
    }
    return skipped;
  }

  /** Blobs noted and not expired. */
  get size(): number {
    return this.lastUse.size;
  }

  private isExpired(byJob: ReadonlyMap<string, number>, roundOf: (job: string) => number): boolean {
    for (const [job, round] of byJob) if (round > roundOf(job) - this.keepRounds) return false;
    return true;
  }
}

/**
 * A finished job found on disk at start (it has no runner any more): removes every parameter
 * blob its stored retention table names but those in `keep` (its final model, submission,
 * manifest) and those `heldElsewhere`, then saves what is left. Returns how many were removed.
 */
export async function releaseStoredJobBlobs(
  store: NodeStore,
  rootId: string,
  keep: ReadonlySet<string>,
  heldElsewhere: (hash: string) => boolean,
): Promise<number> {
  const table = await store.loadState(rootId, RETENTION_RECORD);
  if (table === undefined) return 0;
  const r = new BlobRetention(0);
  r.load(table);
  let removed = 0;
  const held = new Set(keep);
  for (const hash of r.expire(() => Number.MAX_SAFE_INTEGER, keep, true)) {
    if (heldElsewhere(hash)) {
      held.add(hash);
      continue;
    }
    await store.blobs.remove(hash);
    removed++;
  }
  const left = new BlobRetention(0);
  left.load((table as RetentionTable).filter(([hash]) => held.has(hash)));
  await store.saveState(rootId, RETENTION_RECORD, left.toJSON());
  return removed;
}
