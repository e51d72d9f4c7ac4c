import { validateManifest, type ClusterSpec, type Manifest } from '@canopy/core/protocol';
import { hashJson, ManifestError } from '@canopy/core/util';
import { clusterHosts, clusterNodes, minWorkers } from './faults.js';
import { expandTree } from './tree.js';
import type { Scenario } from './scenarioSchema.js';

// The bridge from a scenario to the protocol: the runner hands the protocol a real, validated
// manifest, the same kind a submitter writes, so the simulator exercises exactly the code
// real jobs run.

// Expanding a 50,000-client tree takes milliseconds, but parse, check and every repetition
// ask for it; a scenario is immutable once parsed, so the cluster is built once per object.
const clusterCache = new WeakMap<Scenario, ClusterSpec>();

/** The cluster tree of a scenario: its explicit `cluster`, or its `tree` expanded. */
export function scenarioCluster(scenario: Scenario): ClusterSpec {
  const { cluster, tree } = scenario.job;
  if (cluster) return cluster;
  let expanded = clusterCache.get(scenario);
  if (!expanded) {
    if (!tree) throw new ManifestError(scenario.name, ['job: expected exactly one of `cluster` (listed nodes) or `tree` (generated)']);
    expanded = expandTree(tree);
    clusterCache.set(scenario, expanded);
  }
  return expanded;
}

/** The seeds of repetition `r`: the simulation's, the job's training initialisation and its dataset split. */
export interface RepetitionSeeds {
  readonly simulation: number;
  readonly train: number;
  readonly dataset: number;
}

/**
 * Repetition r adds r to every seed, so repetitions differ in everything random (device
 * draws, latencies, faults, initial weights, data split) and repetition 0 is exactly the
 * scenario as written.
 */
export function repetitionSeeds(scenario: Scenario, repetition: number): RepetitionSeeds {
  return {
    simulation: scenario.seed + repetition,
    train: scenario.job.train.seed + repetition,
    dataset: scenario.job.dataset.seed + repetition,
  };
}

/**
 * The validated job manifest of repetition `repetition` of a scenario, ready for the
 * protocol. Throws {@link ManifestError} whose issues name `job.`-prefixed fields.
 */
export function scenarioManifest(scenario: Scenario, repetition = 0): Manifest {
  const { tree: _tree, cluster: _cluster, name, ...job } = scenario.job;
  const seeds = repetitionSeeds(scenario, repetition);
  const value = {
    apiVersion: 'canopy/v1',
    kind: 'Job',
    name: name ?? scenario.name,
    ...job,
    train: { ...job.train, seed: seeds.train },
    dataset: { ...job.dataset, seed: seeds.dataset },
    cluster: scenarioCluster(scenario),
  };
  try {
    return validateManifest(value, scenario.name);
  } catch (e) {
    // the manifest's paths start at its root, which is the scenario's `job`
    if (e instanceof ManifestError) throw new ManifestError(e.source, e.issues.map((i) => (i.startsWith('(top level)') ? `job${i.slice(11)}` : `job.${i}`)));
    throw e;
  }
}

/**
 * Rules that need the whole scenario: the embedded job must be a valid manifest, and faults
 * and network partitions may name only nodes that exist. Returns one line per problem.
 */
export function checkScenario(scenario: Scenario): string[] {
  let manifest: Manifest;
  try {
    manifest = scenarioManifest(scenario);
  } catch (e) {
    if (e instanceof ManifestError) return [...e.issues];
    throw e;
  }
  const problems: string[] = [];
  const cluster = manifest.cluster;
  const fewest = minWorkers(cluster);
  const lying = scenario.faults.lyingWorkersPerCluster;
  if (lying > fewest) {
    problems.push(`faults.lyingWorkersPerCluster: expected at most ${fewest}, the fewest workers any cluster has; found ${lying}`);
  }
  const hosts = clusterHosts(cluster);
  scenario.faults.hostCrashes.forEach((c, i) => {
    if (!hosts.has(c.host)) problems.push(`faults.hostCrashes[${i}].host: expected the host of a cluster (such as ${cluster.host}); found ${JSON.stringify(c.host)}`);
  });
  const nodes = clusterNodes(cluster);
  if (manifest.dataset.distributor) nodes.add(manifest.dataset.distributor);
  scenario.network.partitions.forEach((p, i) => {
    if (p.toSeconds <= p.fromSeconds) problems.push(`network.partitions[${i}].toSeconds: expected a time after fromSeconds (${p.fromSeconds}); found ${p.toSeconds}`);
    p.isolated.forEach((node, j) => {
      if (!nodes.has(node)) problems.push(`network.partitions[${i}].isolated[${j}]: expected a node of the job; found ${JSON.stringify(node)}`);
    });
  });
  if (scenario.training.mode === 'real' && scenario.training.queue !== undefined && (scenario.artifact || scenario.transport === 'libp2p')) {
    problems.push('training.queue: only a job of the modelled transport trains on the queue; artifact scenarios and fidelity mode compute in this process');
  }
  return problems;
}

/**
 * What a sim-worker pinned to a scenario checks a task against: the scenario's name, model
 * and data, which seeds and round counts do not change.
 */
export function scenarioJobHash(scenario: Scenario): string {
  const m = scenarioManifest(scenario);
  return hashJson({ name: scenario.name, model: m.model, dataset: m.dataset });
}
