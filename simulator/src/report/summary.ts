import { totalOf, type ArtifactResultRecord, type RepetitionEnd, type RepetitionQueueRecord, type RepetitionStopReason, type RoundRecord, type RunMeta, type RunParameter } from './roundRecord.js';

/** Mean, spread and extremes of one quantity over repetitions. */
export interface Stat {
  readonly mean: number;
  readonly min: number;
  readonly max: number;
  /** Sample standard deviation; 0 for a single value. */
  readonly sd: number;
  readonly n: number;
}

/** What one repetition came to. */
export interface RepetitionSummary {
  readonly repetition: number;
  readonly rounds: number;
  readonly stopReason: RepetitionStopReason;
  readonly detail?: string;
  /** Accuracy and loss of the last evaluated round; null if none was evaluated. */
  readonly finalAccuracy: number | null;
  readonly finalLoss: number | null;
  readonly bestAccuracy: number | null;
  /** The first round whose accuracy reached the target, if there is a target and it was reached. */
  readonly roundsToTargetAccuracy: number | null;
  readonly virtualSeconds: number;
  readonly wallSeconds: number;
  readonly bytes: number;
  readonly messages: number;
  /** Client updates aggregated over all rounds, and the stragglers and crashes beside them. */
  readonly participants: number;
  readonly stragglers: number;
  readonly crashed: number;
  /** An artifact scenario's result. */
  readonly result?: ArtifactResultRecord;
  /** With `training.queue`: where the compute tasks ran and how long they waited. */
  readonly queue?: RepetitionQueueRecord;
}

/** A run: what it was, each repetition, and the spread across them (`summary.json`). */
export interface RunSummary {
  readonly scenario: string;
  readonly description?: string;
  readonly parameters: readonly RunParameter[];
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly repetitions: readonly RepetitionSummary[];
  /** Over repetitions; a metric is null when no repetition evaluated it. */
  readonly overall: {
    readonly rounds: Stat | null;
    readonly finalAccuracy: Stat | null;
    readonly finalLoss: Stat | null;
    readonly virtualSeconds: Stat | null;
    readonly wallSeconds: Stat | null;
    readonly bytes: Stat | null;
    readonly messages: Stat | null;
  };
}

/** Mean, min, max and sample sd of some numbers; null for none. */
export function statOf(values: readonly number[]): Stat | null {
  const n = values.length;
  if (n === 0) return null;
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const mean = sum / n;
  const sd = n > 1 ? Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, min, max, sd, n };
}

/** Groups records by repetition, each group sorted by round. */
export function byRepetition(records: readonly RoundRecord[]): Map<number, RoundRecord[]> {
  const out = new Map<number, RoundRecord[]>();
  for (const r of records) {
    let list = out.get(r.repetition);
    if (!list) out.set(r.repetition, (list = []));
    list.push(r);
  }
  for (const list of out.values()) list.sort((a, b) => a.round - b.round);
  return new Map([...out].sort((a, b) => a[0] - b[0]));
}

/** Summarises one repetition's rounds. */
export function summarizeRepetition(repetition: number, rounds: readonly RoundRecord[], end: RepetitionEnd | undefined, targetAccuracy?: number): RepetitionSummary {
  const evaluated = rounds.filter((r) => r.accuracy !== null || r.loss !== null);
  const lastAcc = [...rounds].reverse().find((r) => r.accuracy !== null);
  const lastLoss = [...rounds].reverse().find((r) => r.loss !== null);
  const accs = evaluated.map((r) => r.accuracy).filter((a): a is number => a !== null);
  const hit = targetAccuracy === undefined ? undefined : rounds.find((r) => r.accuracy !== null && r.accuracy >= targetAccuracy);
  const last = rounds[rounds.length - 1];
  const sum = (f: (r: RoundRecord) => number) => rounds.reduce((a, r) => a + f(r), 0);
  return {
    repetition,
    rounds: last?.round ?? 0,
    stopReason: end?.stopReason ?? 'incomplete',
    ...(end?.detail !== undefined ? { detail: end.detail } : {}),
    finalAccuracy: lastAcc?.accuracy ?? null,
    finalLoss: lastLoss?.loss ?? null,
    bestAccuracy: accs.length > 0 ? Math.max(...accs) : null,
    roundsToTargetAccuracy: hit?.round ?? null,
    virtualSeconds: last?.virtualSeconds ?? 0,
    wallSeconds: last?.wallSeconds ?? 0,
    bytes: sum((r) => totalOf(r.bytesByLevel)),
    messages: sum((r) => totalOf(r.messagesByLevel)),
    participants: sum((r) => r.participants),
    stragglers: sum((r) => r.stragglers),
    crashed: sum((r) => r.crashed),
    ...(end?.result ? { result: end.result } : {}),
    ...(end?.queue ? { queue: end.queue } : {}),
  };
}

/**
 * Summarises a run from its rounds and the repetitions' ends. A repetition that started but
 * never ended (the run was killed) is reported as `incomplete`; one that ended before any
 * round finished still appears, with zero rounds.
 */
export function summarizeRun(meta: RunMeta, records: readonly RoundRecord[], ends: readonly RepetitionEnd[], finishedAt: Date = new Date()): RunSummary {
  const groups = byRepetition(records);
  const endOf = new Map(ends.map((e) => [e.repetition, e]));
  const reps = [...new Set([...groups.keys(), ...endOf.keys()])].sort((a, b) => a - b);
  const repetitions = reps.map((rep) => summarizeRepetition(rep, groups.get(rep) ?? [], endOf.get(rep), meta.stop?.targetAccuracy));
  const pick = (f: (r: RepetitionSummary) => number | null) => statOf(repetitions.map(f).filter((v): v is number => v !== null));
  return {
    scenario: meta.scenario,
    ...(meta.description !== undefined ? { description: meta.description } : {}),
    parameters: meta.parameters,
    startedAt: meta.startedAt,
    finishedAt: finishedAt.toISOString(),
    repetitions,
    overall: {
      rounds: pick((r) => r.rounds),
      finalAccuracy: pick((r) => r.finalAccuracy),
      finalLoss: pick((r) => r.finalLoss),
      virtualSeconds: pick((r) => r.virtualSeconds),
      wallSeconds: pick((r) => r.wallSeconds),
      bytes: pick((r) => r.bytes),
      messages: pick((r) => r.messages),
    },
  };
}
