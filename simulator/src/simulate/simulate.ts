import { resourceUsage } from 'node:process';
import type { ArtifactResult } from '@canopy/core/artifacts';
import { buildJobTree, timingWarnings } from '@canopy/core/protocol';
import { scenarioManifest } from '../scenario/scenarioManifest.js';
import type { RepetitionQueueRecord, RoundRecord } from '../report/roundRecord.js';
import { RunExporter } from '../report/runExporter.js';
import type { RunSummary } from '../report/summary.js';
import { scenarioRunMeta } from '../scenario/describeScenario.js';
import { ScenarioError, type Scenario, type Transport } from '../scenario/scenario.js';
import { assertFidelity } from '../fidelity/limits.js';
import { runFidelityRepetition } from '../fidelity/runFidelity.js';
import { runRepetition, type RepetitionResult } from '../run/repetition.js';
import type { QueueStatus } from '../queue/queueReport.js';

/** Where a run is, for progress bars. */
export interface SimulationProgress {
  readonly repetition: number;
  readonly repetitions: number;
  /** Root rounds finished in this repetition, and the most the stop conditions allow. */
  readonly round: number;
  readonly rounds: number;
  readonly virtualSeconds: number;
  readonly accuracy: number | null;
  /** With `training.queue`: the queue's depth and live workers, as last polled. */
  readonly queue?: QueueStatus;
}

/** Options of {@link simulate}. */
export interface SimulateOptions {
  /** Run folder for the export (rounds.jsonl/csv, summary.json, report.html); none if omitted. */
  readonly out?: string;
  /** Replace an earlier run in `out`. */
  readonly overwrite?: boolean;
  /** The scenario file's text, saved beside the data for reproducing the run. */
  readonly scenarioYaml?: string;
  /** Overrides the scenario's `repetitions`. */
  readonly repetitions?: number;
  /** Overrides the scenario's `seed`. */
  readonly seed?: number;
  /**
   * Overrides the scenario's `transport`: `modelled` (virtual time) or `libp2p` (fidelity
   * mode: real nodes over @libp2p/memory, wall-clock time; small scenarios only).
   */
  readonly transport?: Transport;
  /** What fidelity mode ignores of the scenario, one line each, before the run starts. */
  readonly onWarning?: (text: string) => void;
  /** Each finished round, as it finishes. */
  readonly onRound?: (record: RoundRecord) => void;
  readonly onProgress?: (progress: SimulationProgress) => void;
  readonly onRepetition?: (result: RepetitionResult) => void;
  readonly signal?: AbortSignal;
}

/**
 * What a run came to: the summary line (means over repetitions for rounds,
 * accuracy, loss and virtual time; totals for wall time, bytes and messages; the process's
 * peak RSS), plus each repetition in full.
 */
export interface SimulationResult {
  readonly rounds: number;
  readonly accuracy: number | null;
  readonly loss: number | null;
  readonly virtualSeconds: number;
  readonly wallSeconds: number;
  readonly peakRssMb: number;
  readonly bytesSent: number;
  readonly messages: number;
  /** What carried the run; with `libp2p`, times are wall-clock seconds. */
  readonly transport: Transport;
  /** Timing that makes the tree fragile (core's timingWarnings), and what fidelity mode ignored of the scenario. */
  readonly warnings: readonly string[];
  readonly repetitions: readonly RepetitionResult[];
  /** An artifact scenario's result in repetition 0, the scenario as written (each repetition's is in `repetitions`). */
  readonly result?: ArtifactResult;
  /** The export's summary, when `out` was given. */
  readonly summary?: RunSummary;
  readonly dir?: string;
}

/**
 * Runs a scenario: every repetition of its job on the modelled network, driving the same
 * protocol machines real nodes run, in virtual time. Deterministic for a given seed.
 *
 * With `transport: libp2p` (the scenario's or the option's), fidelity mode: each repetition
 * runs on real nodes over @libp2p/memory instead, and "virtual" seconds are wall-clock
 * seconds since the job was submitted. A scenario it cannot honour is refused with a
 * ScenarioError naming the fields; what it ignores goes to `onWarning` first.
 */
export async function simulate(input: Scenario, options: SimulateOptions = {}): Promise<SimulationResult> {
  const started = performance.now();
  const scenario: Scenario = {
    ...input,
    ...(options.repetitions !== undefined ? { repetitions: options.repetitions } : {}),
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
    ...(options.transport !== undefined ? { transport: options.transport } : {}),
  };
  const fidelity = scenario.transport === 'libp2p';
  if (fidelity && scenario.artifact) throw new ScenarioError(scenario.name, ['transport: artifact scenarios run on the modelled network only; fidelity mode (libp2p) runs jobs with synthetic compute']);
  const warnings = [...timingWarnings(buildJobTree(scenarioManifest(scenario))), ...(fidelity ? assertFidelity(scenario).map((w) => `transport: libp2p ignores ${w}`) : [])];
  for (const w of warnings) options.onWarning?.(w);
  const described = scenarioRunMeta(scenario);
  const meta = fidelity ? { ...described, parameters: [...(described.parameters ?? []), { label: 'Transport', value: 'libp2p over @libp2p/memory (fidelity mode; times are wall-clock)' }] } : described;
  const exporter = options.out === undefined ? undefined : RunExporter.open(options.out, meta, { overwrite: options.overwrite ?? false, ...(options.scenarioYaml !== undefined ? { scenarioYaml: options.scenarioYaml } : {}) });
  const results: RepetitionResult[] = [];
  try {
    for (let r = 0; r < scenario.repetitions; r++) {
      if (options.signal?.aborted) break;
      let round = 0;
      let accuracy: number | null = null;
      let queue: QueueStatus | undefined;
      let virtual = 0;
      const progress = (virtualSeconds: number) => {
        virtual = virtualSeconds;
        options.onProgress?.({ repetition: r, repetitions: scenario.repetitions, round, rounds: scenario.job.stop.rounds, virtualSeconds, accuracy, ...(queue ? { queue } : {}) });
      };
      progress(0);
      const run = fidelity ? runFidelityRepetition : runRepetition;
      const result = await run(scenario, r, {
        ...(options.signal ? { signal: options.signal } : {}),
        onRound: (record) => {
          round = record.round;
          accuracy = record.accuracy;
          exporter?.record(record);
          options.onRound?.(record);
          progress(record.virtualSeconds);
        },
        onTick: progress,
        onQueue: (status) => {
          queue = status;
          progress(virtual);
        },
      });
      exporter?.endRepetition({
        repetition: r,
        stopReason: result.stopReason,
        detail: result.detail,
        finalHash: result.finalHash,
        ...(result.result ? { result: { ...result.result, steps: [...result.result.steps], absent: [...result.result.absent] } } : {}),
        ...(result.queue ? { queue: structuredClone(result.queue) as RepetitionQueueRecord } : {}),
      });
      results.push(result);
      options.onRepetition?.(result);
    }
  } catch (e) {
    // The folder keeps every round finished so far, and failed.json says where and why it stopped.
    exporter?.fail(e, { repetition: results.length, repetitionsFinished: results.length });
    throw e;
  }
  const summary = exporter?.finish();
  return {
    ...summarize(results, (performance.now() - started) / 1000),
    transport: scenario.transport,
    warnings,
    repetitions: results,
    ...(results[0]?.result ? { result: results[0].result } : {}),
    ...(summary ? { summary } : {}),
    ...(options.out !== undefined ? { dir: options.out } : {}),
  };
}

/** The process's peak resident set so far, MiB. */
export function peakRssMb(): number {
  return Math.round(resourceUsage().maxRSS / 1024);
}

function summarize(results: readonly RepetitionResult[], wallSeconds: number): Omit<SimulationResult, 'repetitions' | 'summary' | 'dir' | 'transport' | 'warnings'> {
  const mean = (xs: readonly number[]) => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);
  const meanOrNull = (xs: readonly (number | null)[]) => {
    const v = xs.filter((x): x is number => x !== null);
    return v.length === 0 ? null : mean(v);
  };
  return {
    rounds: mean(results.map((r) => r.rounds)),
    accuracy: meanOrNull(results.map((r) => r.accuracy)),
    loss: meanOrNull(results.map((r) => r.loss)),
    virtualSeconds: mean(results.map((r) => r.virtualSeconds)),
    wallSeconds,
    peakRssMb: peakRssMb(),
    bytesSent: results.reduce((a, r) => a + r.bytesSent, 0),
    messages: results.reduce((a, r) => a + r.messages, 0),
  };
}
