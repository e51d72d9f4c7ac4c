import { cpuUsage } from 'node:process';
import { buildJobTree } from '@canopy/core/protocol';
import { runRepetition } from '../run/repetition.js';
import { peakRssMb } from '../simulate/simulate.js';
import type { Scenario } from '../scenario/scenario.js';
import { scenarioManifest } from '../scenario/scenarioManifest.js';

/** What one in-process run of a scale scenario measured (issue #5's benchmark). */
export interface ScaleMeasurement {
  readonly scenario: string;
  /** Leaf clients, and every client and worker machine. */
  readonly clients: number;
  readonly members: number;
  readonly rounds: number;
  readonly stopReason: string;
  /** From building the peers to the end of the repetition. */
  readonly wallSeconds: number;
  readonly wallSecondsPerRound: number;
  /** Wall seconds before the first round finished: setup (sheets, data, initial model) and round 1. */
  readonly firstRoundWallSeconds: number;
  /** Median wall seconds of the later rounds (null with fewer than two rounds). */
  readonly laterRoundWallSeconds: number | null;
  /** CPU time of this process (all threads), user + system. */
  readonly cpuSeconds: number;
  readonly peakRssMb: number;
  readonly events: number;
  readonly eventsPerSecond: number;
  readonly messages: number;
  readonly virtualSeconds: number;
  readonly finalHash: string | null;
}

/** The scenario with its stop condition cut to `rounds` root rounds. */
export function withRounds(scenario: Scenario, rounds: number | undefined): Scenario {
  if (rounds === undefined) return scenario;
  return { ...scenario, job: { ...scenario.job, stop: { ...scenario.job.stop, rounds } } };
}

/**
 * Runs repetition 0 of a scenario in this process and measures it. Peak RSS is the
 * process's, so measure one scenario per process (the CLI's `bench simulate` spawns one).
 */
export async function measureScale(scenario: Scenario): Promise<ScaleMeasurement> {
  const clients = buildJobTree(scenarioManifest(scenario)).shardIndex.size;
  const roundEnds: number[] = [];
  const cpu0 = cpuUsage();
  const r = await runRepetition(scenario, 0, { onRound: (rec) => roundEnds.push(rec.wallSeconds) });
  const cpu = cpuUsage(cpu0);
  const later = roundEnds.slice(1).map((t, i) => t - roundEnds[i]!);
  return {
    scenario: scenario.name,
    clients,
    members: r.members,
    rounds: r.rounds,
    stopReason: r.stopReason,
    wallSeconds: round3(r.wallSeconds),
    wallSecondsPerRound: round3(r.wallSeconds / Math.max(1, r.rounds)),
    firstRoundWallSeconds: round3(roundEnds[0] ?? r.wallSeconds),
    laterRoundWallSeconds: later.length === 0 ? null : round3(median(later)),
    cpuSeconds: round3((cpu.user + cpu.system) / 1e6),
    peakRssMb: peakRssMb(),
    events: r.events,
    eventsPerSecond: Math.round(r.events / r.wallSeconds),
    messages: r.messages,
    virtualSeconds: round3(r.virtualSeconds),
    finalHash: r.finalHash,
  };
}

/** The median of a non-empty list. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new RangeError('median of an empty list');
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
