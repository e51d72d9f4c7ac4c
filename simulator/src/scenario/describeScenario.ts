import type { ClusterSpec } from '@canopy/core/protocol';
import type { RunMetaInput, RunParameter } from '../report/roundRecord.js';
import type { Scenario } from './scenario.js';
import { sourceRowsOf } from './scenarioArtifact.js';
import { scenarioCluster } from './scenarioManifest.js';

/** Counts of a cluster tree, however it was given. */
export interface ClusterCounts {
  readonly depth: number;
  readonly clusters: number;
  readonly leaves: number;
  readonly clients: number;
  readonly workers: number;
}

/** Walks a cluster tree once and counts what it holds. */
export function countCluster(cluster: ClusterSpec): ClusterCounts {
  let depth = 0;
  let clusters = 0;
  let leaves = 0;
  let clients = 0;
  let workers = 0;
  const walk = (c: ClusterSpec, level: number) => {
    depth = Math.max(depth, level + 1);
    clusters++;
    workers += c.workers.length;
    if (c.clients) {
      leaves++;
      clients += c.clients.length;
    }
    c.clusters?.forEach((sub) => walk(sub, level + 1));
  };
  walk(cluster, 0);
  return { depth, clusters, leaves, clients, workers };
}

/**
 * The parameters that tell two runs apart, in reading order: topology, model and training,
 * data, stop conditions, faults, repetitions. A report's header lists these.
 */
export function describeScenario(scenario: Scenario): RunParameter[] {
  const job = scenario.job;
  const counts = countCluster(scenarioCluster(scenario));
  const fmt = (n: number) => n.toLocaleString('en-US');
  const out: RunParameter[] = [{ label: 'Topology', value: `${counts.depth}-level tree, ${fmt(counts.clusters)} clusters, ${fmt(counts.clients)} clients, ${fmt(counts.workers)} workers` }];
  if (job.artifact) out.push(...describeArtifact(scenario));
  else describeTraining(scenario, out);
  const timing = job.timing;
  const pct = (x: number | undefined) => `${Math.round((x ?? 1) * 100)}%`;
  const levels = job.tree?.levelTiming;
  if (levels?.some((t) => t.sampleFraction !== undefined || t.quorum !== undefined)) {
    const perLevel = levels.map((t, l) => `level ${l}: ${pct(t.sampleFraction ?? timing.sampleFraction)} sampled, quorum ${pct(t.quorum ?? timing.quorum)}`);
    out.push({ label: 'Sampling', value: perLevel.join('; ') });
  } else if (timing.sampleFraction !== undefined || timing.quorum !== undefined) {
    out.push({ label: 'Sampling', value: `${pct(timing.sampleFraction)} of clients per round, quorum ${pct(timing.quorum)}` });
  }
  const stop = [`${job.stop.rounds} rounds`];
  if (job.stop.targetAccuracy !== undefined) stop.push(`accuracy ≥ ${job.stop.targetAccuracy}`);
  if (job.stop.targetLoss !== undefined) stop.push(`loss ≤ ${job.stop.targetLoss}`);
  if (scenario.maxVirtualSeconds !== undefined) stop.push(`${scenario.maxVirtualSeconds} virtual s`);
  out.push({ label: 'Stop', value: stop.join(' or ') });
  const f = scenario.faults;
  const faults: string[] = [];
  if (f.clientCrashPerRound !== undefined) faults.push(`${Math.round(f.clientCrashPerRound * 100)}% clients crash per round`);
  if (f.lyingWorkersPerCluster > 0) faults.push(`${f.lyingWorkersPerCluster} lying worker(s) per cluster (${f.lie})`);
  if (f.hostCrashes.length > 0) faults.push(`${f.hostCrashes.length} host crash(es)`);
  out.push({ label: 'Faults', value: faults.length > 0 ? faults.join(', ') : 'device profiles only' });
  out.push({ label: 'Devices', value: scenario.devices.profiles.map((p) => `${p.name} ${Math.round(p.share * 100)}%`).join(', ') });
  out.push({ label: 'Repetitions', value: `${scenario.repetitions} (seed ${scenario.seed})` });
  return out;
}

// A training job's model, training mode, local training, aggregation and data.
function describeTraining(scenario: Scenario, out: RunParameter[]): void {
  const job = scenario.job;
  const fmt = (n: number) => n.toLocaleString('en-US');
  out.push({ label: 'Model', value: `${job.model.kind} ${JSON.stringify(job.model.inputShape)} → ${job.model.numClasses}` });
  const t = scenario.training;
  out.push({
    label: 'Training',
    value: t.mode === 'real' ? `real (tfjs), ${t.workerThreads ?? 'one per core'} worker threads` : `synthetic, P = ${fmt(t.params)}, ${fmt(t.samplesPerClient)} samples/client`,
  });
  out.push({ label: 'Local', value: `${job.train.optimizer.kind} lr ${job.train.optimizer.lr}, ${job.train.epochs} epoch(s), batch ${job.train.batchSize}${job.train.mu > 0 ? `, FedProx μ ${job.train.mu}` : ''}` });
  out.push({ label: 'Aggregation', value: `${job.aggregator.kind}, consensus ${job.consensus}` });
  const part = job.dataset.partition;
  const partText = part.kind === 'iid' ? 'IID' : part.kind === 'shards' ? `shards, ${part.classesPerClient} classes/client` : `${part.kind} α = ${part.alpha}`;
  out.push({ label: 'Data', value: `${job.dataset.source.kind}, ${partText}` });
}

/** What a run exporter needs to know about a scenario's run (see `RunExporter.open`). */
export function scenarioRunMeta(scenario: Scenario, startedAt: Date = new Date()): RunMetaInput {
  const { rounds, targetAccuracy, targetLoss } = scenario.job.stop;
  return {
    scenario: scenario.name,
    ...(scenario.description !== undefined ? { description: scenario.description } : {}),
    levels: countCluster(scenarioCluster(scenario)).depth,
    repetitions: scenario.repetitions,
    parameters: describeScenario(scenario),
    stop: { rounds, ...(targetAccuracy !== undefined ? { targetAccuracy } : {}), ...(targetLoss !== undefined ? { targetLoss } : {}) },
    startedAt: startedAt.toISOString(),
  };
}

/** An artifact scenario's parameters for a report's header: steps, distributions, privacy, data, training. */
export function describeArtifact(scenario: Scenario): RunParameter[] {
  const job = scenario.job;
  const plan = job.artifact;
  if (!plan) return [];
  const out: RunParameter[] = [{ label: 'Artifact', value: plan.steps.map((s) => (s.kind === 'stats' || s.kind === 'histogram' ? `${s.kind} ${s.column}` : s.kind)).join(', ') }];
  // Each level's distributions, root first: the compiled tree sets every cluster's.
  const levels: Set<string>[] = [];
  const walk = (c: ClusterSpec, d: number) => {
    (levels[d] ??= new Set()).add(c.timing?.distribution ?? 'collect');
    c.clusters?.forEach((sub) => walk(sub, d + 1));
  };
  walk(job.cluster!, 0);
  out.push({ label: 'Distribution', value: levels.map((l, d) => `level ${d}: ${[...l].join(' and ')}`).join('; ') });
  const noise = plan.privacy.noise;
  out.push({ label: 'Privacy', value: `min group ${plan.privacy.minGroupSize}${noise ? `, Laplace ε = ${noise.epsilon} per query` : ', no noise'}; consensus ${job.consensus}` });
  const data = scenario.data;
  if (data) {
    const rows = sourceRowsOf(data).rows.length;
    const split = data.split.kind === 'dirichlet' ? `Dirichlet α = ${data.split.alpha} by ${data.split.column}` : data.split.kind;
    out.push({ label: 'Data', value: `${rows.toLocaleString('en-US')} rows from ${data.csv.length} CSV file(s), split ${split} (seed ${data.seed})` });
  }
  const t = scenario.training;
  if (plan.steps.some((s) => s.kind === 'train') && t.mode === 'real') out.push({ label: 'Training', value: `real (tfjs), ${t.workerThreads ?? 'one per core'} worker threads` });
  return out;
}
