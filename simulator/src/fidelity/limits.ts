import { allMembers, buildJobTree } from '@canopy/core/protocol';
import { ScenarioError, type Scenario } from '../scenario/scenario.js';
import { scenarioManifest } from '../scenario/scenarioManifest.js';

// What fidelity mode (`transport: libp2p`) can and cannot play. It runs one real CanopyNode
// per member over @libp2p/memory in this process, so it has what real nodes have (the
// runtime, gossipsub, the blob exchange, stores, deadlines in wall-clock time) and nothing
// the modelled network adds on top. A scenario asking for something fidelity mode cannot
// do on purpose is refused, naming the field; what is merely not modelled (latency,
// devices) is ignored with a warning, because every scenario has it by default.

/** The most members (hosts, workers, clients, distributor) fidelity mode starts real nodes for. */
export const FIDELITY_MAX_MEMBERS = 50;

/** What fidelity mode makes of a scenario. */
export interface FidelityCheck {
  /** Settings it cannot honour; the run is refused. One line each, naming the field. */
  readonly problems: string[];
  /** Settings it ignores; the run goes ahead without them. One line each, naming the field. */
  readonly ignored: string[];
  /** Members, and so real nodes, one repetition starts. */
  readonly members: number;
}

/** Checks a scenario against what fidelity mode can do (see {@link FidelityCheck}). */
export function checkFidelity(scenario: Scenario): FidelityCheck {
  const problems: string[] = [];
  const ignored: string[] = [];
  const members = allMembers(buildJobTree(scenarioManifest(scenario))).length;
  if (members > FIDELITY_MAX_MEMBERS) {
    problems.push(
      `transport: libp2p starts one real node per member, at most ${FIDELITY_MAX_MEMBERS}; this scenario has ${members} (hosts, workers and clients). Use transport: modelled for large trees`,
    );
  }
  if (scenario.training.mode !== 'synthetic') {
    problems.push(`training.mode: transport: libp2p runs synthetic training only; found ${scenario.training.mode} (use transport: modelled for real training)`);
  }
  const f = scenario.faults;
  if ((f.clientCrashPerRound ?? 0) > 0) problems.push(`faults.clientCrashPerRound: transport: libp2p cannot crash clients; expected 0 or unset, found ${f.clientCrashPerRound}`);
  if (f.hostCrashes.length > 0) problems.push(`faults.hostCrashes: transport: libp2p cannot crash hosts; expected none, found ${f.hostCrashes.length}`);
  const n = scenario.network;
  if (n.loss > 0) problems.push(`network.loss: transport: libp2p cannot drop messages; expected 0, found ${n.loss}`);
  if (n.partitions.length > 0) problems.push(`network.partitions: transport: libp2p cannot partition the network; expected none, found ${n.partitions.length}`);

  ignored.push(`network.latency: messages take what the memory transport takes, not ${latencyText(scenario)}`);
  ignored.push('devices: every node runs in this process, always online, at its speed, with no modelled links, crashes or stragglers');
  if (scenario.training.mode === 'synthetic') ignored.push('training.secondsPerSample: synthetic training takes the real time its arithmetic takes');
  if (scenario.training.mode === 'synthetic' && typeof scenario.training.aggregateThreads === 'number' && scenario.training.aggregateThreads > 0) {
    ignored.push(`training.aggregateThreads: each node aggregates in its own runtime, not on ${scenario.training.aggregateThreads} shared thread(s)`);
  }
  if (f.lyingWorkersPerCluster > 0) {
    ignored.push(`faults.lie: lying workers (faults.lyingWorkersPerCluster: ${f.lyingWorkersPerCluster}) vote the aggregate of all but the last submission, the runtime's own lie, instead of ${f.lie}`);
  }
  return { problems, ignored, members };
}

/**
 * Refuses a scenario fidelity mode cannot honour with a {@link ScenarioError} listing every
 * problem; otherwise returns the lines saying what it ignores.
 */
export function assertFidelity(scenario: Scenario, source = scenario.name): string[] {
  const check = checkFidelity(scenario);
  if (check.problems.length > 0) {
    const e = new ScenarioError(source, check.problems);
    e.message = `${source} cannot run with transport: libp2p (fidelity mode):\n${check.problems.map((p) => `  - ${p}`).join('\n')}`;
    throw e;
  }
  return check.ignored;
}

function latencyText(scenario: Scenario): string {
  const l = scenario.network.latency;
  switch (l.kind) {
    case 'constant':
      return `${l.ms} ms`;
    case 'normal':
      return `normal(${l.meanMs} ms, ${l.sdMs} ms)`;
    case 'lognormal':
      return `lognormal(median ${l.medianMs} ms, σ ${l.sigma})`;
  }
}
