/** How long a node keeps a job's parameter blobs: see docs/CLI.md, "Retention". */
export interface RetentionPolicy {
  /** Rounds of each job whose parameter blobs stay after they were last used (default 2). */
  readonly keepRounds: number;
  /** How long a finished job's parameter blobs stay, all but its final model (default 10 min). */
  readonly finishedGraceMs: number;
}

export const DEFAULT_RETENTION: RetentionPolicy = { keepRounds: 2, finishedGraceMs: 10 * 60_000 };

/**
 * The parameter blobs (globals, client updates, aggregates, inputs lists) one job tree used
 * on this node, and in which round of which of its jobs each was last used, so that a runner
 * can drop those of rounds long past. Dataset chunks and indexes, submissions and manifests
 * are never noted here, so they are never dropped by it.
 */
export class BlobRetention {
  private readonly lastUse = new Map<string, Map<string, number>>();

  constructor(readonly keepRounds: number) {}

  /** `hash` was used in `round` of `job`. */
  note(hash: string, job: string, round: number): void {
    let byJob = this.lastUse.get(hash);
    if (!byJob) this.lastUse.set(hash, (byJob = new Map()));
    if ((byJob.get(job) ?? -1) < round) byJob.set(job, round);
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
    return out;
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
