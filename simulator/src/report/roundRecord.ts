import { z } from 'zod';
import { StepResult } from '@canopy/core/artifacts';

// What a run records per round and per repetition (issue #5, "Export"). The schemas decode
// a run folder's JSONL when a report is rebuilt from it; the runner builds these objects
// directly and the exporter writes them as they come.

const seconds = z.number().min(0);
const count = z.number().int().min(0);

/** The stages of a round, in protocol order; `jobSheets`, `datasets`, `initialParameters` happen before round 1 only. */
export const STAGES = ['jobSheets', 'datasets', 'initialParameters', 'training', 'aggregation', 'consensus'] as const;
export type Stage = (typeof STAGES)[number];

/**
 * Virtual seconds each stage took in this round, seen from the root job: `training` runs
 * from the root's `ProcessStage=1` until its last client submitted (sub-clusters' whole
 * rounds happen inside it), `aggregation` until the workers uploaded, `consensus` until the
 * aggregate was picked.
 */
export const StageLatencies = z.strictObject({
  jobSheets: seconds.optional(),
  datasets: seconds.optional(),
  initialParameters: seconds.optional(),
  training: seconds,
  aggregation: seconds,
  consensus: seconds.optional(),
});
export type StageLatencies = z.infer<typeof StageLatencies>;

/** Per-level counters, keyed by tree level as a string: "0" is the root cluster, "1" its sub-clusters, and so on. */
const ByLevel = z.record(z.string().regex(/^\d+$/, 'expected a level number'), z.number().min(0));

/**
 * One round of one repetition. Counters (`bytesByLevel`, `messagesByLevel`, clients) are for
 * this round alone, not cumulative. `participants`, `stragglers` and `crashed` are disjoint:
 * clients whose update was aggregated, sampled clients whose update missed the deadline,
 * and sampled clients that crashed. `accuracy` and `loss` are the global model's on the test
 * set after the round, null when it was not evaluated.
 */
export const RoundRecord = z.strictObject({
  repetition: count,
  round: z.number().int().min(1),
  virtualSeconds: seconds,
  wallSeconds: seconds,
  accuracy: z.number().min(0).max(1).nullable(),
  loss: z.number().min(0).nullable(),
  participants: count,
  stragglers: count,
  crashed: count,
  bytesByLevel: ByLevel,
  messagesByLevel: ByLevel,
  stageLatencies: StageLatencies,
  /** Notable things that happened in the round, in words (a host restarted, consensus failed in J#3, ...). */
  events: z.array(z.string()).optional(),
  /** A job with privacy.dp: the largest ε (for the manifest's δ) any leaf cluster's clients have spent so far (PROTOCOL.md §6.14). */
  epsilon: z.number().min(0).optional(),
});
export type RoundRecord = z.infer<typeof RoundRecord>;

/** Why a repetition ended. `incomplete`: the run stopped before saying (it was killed, say). */
export const RepetitionStopReason = z.enum(['rounds', 'targetAccuracy', 'targetLoss', 'privacyBudget', 'maxVirtualSeconds', 'stalled', 'aborted', 'error', 'incomplete']);
export type RepetitionStopReason = z.infer<typeof RepetitionStopReason>;

/** An artifact's result (core's `ArtifactResult`, docs/ARTIFACTS.md "Results"), as a run folder keeps it. */
export const ArtifactResultRecord = z.strictObject({
  artifact: z.string(),
  complete: z.boolean(),
  steps: z.array(StepResult),
  absent: z.array(z.string()),
  weightsBytes: count,
});
export type ArtifactResultRecord = z.infer<typeof ArtifactResultRecord>;

/** The end of one repetition, as the runner reports it. */
export const RepetitionEnd = z.strictObject({
  repetition: count,
  stopReason: RepetitionStopReason,
  /** For `error` and `stalled`: what went wrong. */
  detail: z.string().optional(),
  /** sha256 of the root's final parameters (or resource): the answer two runs compare. */
  finalHash: z.string().regex(/^[0-9a-f]{64}$/).nullable().optional(),
  /** An artifact scenario's result, read from the root's final resource. */
  result: ArtifactResultRecord.optional(),
  /** With `training.queue`: where the compute tasks ran and how long they waited (queue/queueReport.ts). */
  queue: z.lazy(() => RepetitionQueueRecord).optional(),
});
export type RepetitionEnd = z.infer<typeof RepetitionEnd>;

/** Where one worker ran a repetition's tasks. */
const WorkerPlacementRecord = z.strictObject({
  worker: z.string(),
  host: z.string(),
  tasks: count,
  byKind: z.record(z.string(), count),
  runSeconds: z.number().min(0),
  computeSeconds: z.number().min(0),
  waitedMsMean: z.number().min(0),
  waitedMsMax: z.number().min(0),
});

/** Where a repetition's compute tasks ran on the queue, and how long they waited. */
export const RepetitionQueueRecord = z.strictObject({
  queue: z.string(),
  tasks: count,
  retriedAfterLoss: count,
  waitedMsMean: z.number().min(0),
  waitedMsMax: z.number().min(0),
  overheadMsMean: z.number().min(0),
  workers: z.array(WorkerPlacementRecord),
});
export type RepetitionQueueRecord = z.infer<typeof RepetitionQueueRecord>;

/** One labelled parameter of a run, as the report's header shows it. */
export const RunParameter = z.strictObject({ label: z.string(), value: z.string() });
export type RunParameter = z.infer<typeof RunParameter>;

/** What a run is, written once when it starts (`run.json`). */
export const RunMeta = z.strictObject({
  scenario: z.string().min(1),
  description: z.string().optional(),
  /** Tree levels (1 = a single cluster); fixes the per-level CSV columns. */
  levels: z.number().int().min(1).max(16),
  repetitions: z.number().int().min(1),
  parameters: z.array(RunParameter).default([]),
  /** The stop conditions, drawn on the charts as target lines. */
  stop: z.strictObject({ rounds: z.number().int().min(1), targetAccuracy: z.number().optional(), targetLoss: z.number().optional() }).optional(),
  /** ISO time the run started. */
  startedAt: z.string(),
});
export type RunMeta = z.infer<typeof RunMeta>;
/** {@link RunMeta} as callers write it: parameters may be left out. */
export type RunMetaInput = z.input<typeof RunMeta>;

/** The sum of a per-level counter. */
export function totalOf(byLevel: Readonly<Record<string, number>>): number {
  let total = 0;
  for (const v of Object.values(byLevel)) total += v;
  return total;
}
