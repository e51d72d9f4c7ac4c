import type { StageLatencies } from '../report/roundRecord.js';

// What both recorders (the modelled shell's RoundRecorder and fidelity mode's recorder) do
// the same way: time a root round's stages from the root host's snapshots and the root
// workers' votes, and shape a record's events and scores.

/** Most event lines one round record carries; the rest are summed up in one line. */
export const MAX_EVENTS = 20;

/**
 * The moments of the root round in progress, in the recorder's own time unit, and the setup
 * stages before round 1. `unit` is how many of those make a second (1000 for milliseconds).
 */
export class RoundTimes {
  private readonly setup: { sheets?: number; data?: number; init?: number } = {};
  private roundStart = 0;
  private trainingClosed = 0;
  private lastVote = 0;

  constructor(private readonly unit: number) {}

  /** A root snapshot: setup flags may change without a stage change, so every snapshot counts. */
  rootSetup(flags: { datasetFlag: boolean; initFrom: unknown }, now: number): void {
    if (flags.datasetFlag) this.setup.sheets ??= now;
    if (flags.initFrom) this.setup.data ??= now;
  }

  /** The root host moved to `stage` of `round`. */
  rootStage(round: number, stage: number, now: number): void {
    if (stage === 1) {
      this.roundStart = now;
      if (round === 1) this.setup.init ??= now;
    }
    if (stage === 2) this.trainingClosed = now;
  }

  /** A root worker voted on an aggregate. */
  vote(now: number): void {
    this.lastVote = now;
  }

  /** The stage latencies of the round that closes now, in seconds; round 1 adds the setup stages. */
  latencies(round: number, now: number): StageLatencies {
    const votesDone = Math.max(this.lastVote, this.trainingClosed);
    return {
      ...(round === 1 ? this.setupLatencies() : {}),
      training: this.sec(this.trainingClosed - this.roundStart),
      aggregation: this.sec(votesDone - this.trainingClosed),
      consensus: this.sec(now - votesDone),
    };
  }

  private setupLatencies(): Partial<StageLatencies> {
    const s = this.setup;
    const out: { jobSheets?: number; datasets?: number; initialParameters?: number } = {};
    if (s.sheets !== undefined) out.jobSheets = this.sec(s.sheets);
    if (s.sheets !== undefined && s.data !== undefined) out.datasets = this.sec(s.data - s.sheets);
    if (s.data !== undefined && s.init !== undefined) out.initialParameters = this.sec(s.init - s.data);
    return out;
  }

  private sec(t: number): number {
    return Math.max(0, t) / this.unit;
  }
}

/** A round's event lines: outvoted faults first, at most {@link MAX_EVENTS}, the rest counted. */
export function roundEvents(events: readonly string[], faults: number): string[] {
  const all = faults > 0 ? [`${faults} worker vote(s) outvoted as faults`, ...events] : [...events];
  return all.length > MAX_EVENTS ? [...all.slice(0, MAX_EVENTS), `and ${all.length - MAX_EVENTS} more`] : all;
}

/** A record's accuracy and loss from an evaluation: accuracy clamped to [0, 1], a non-finite loss as null. */
export function scores(r: { loss: number; accuracy: number } | null): { accuracy: number | null; loss: number | null } {
  return { accuracy: r ? Math.min(1, Math.max(0, r.accuracy)) : null, loss: r && Number.isFinite(r.loss) ? Math.max(0, r.loss) : null };
}
