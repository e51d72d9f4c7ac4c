import { validateManifest, type ClusterSpec, type Manifest, type ManifestInput } from '../protocol/manifest.js';
import type { ModelSpec, TrainSpec } from '../spec/ml.js';
import { totalRounds } from './execute.js';
import { phasesOf } from './plan.js';
import type { ArtifactPlan } from '../spec/artifactPlan.js';
import { validateArtifact, type ArtifactManifest } from './schema.js';

// Compiles an Artifact into an ordinary job manifest (docs/ARTIFACTS.md, "How an artifact
// runs"): the same cluster tree, with each cluster's distribution in its timing; the stop
// condition is the number of root rounds the steps take; the plan rides in `artifact`, so
// it is part of the signed, hashed manifest every member agrees on.

// Analytics-only artifacts train nothing, but a job manifest names a model: the smallest.
const NO_MODEL: ModelSpec = { kind: 'logreg', inputShape: [1], numClasses: 2 };

/** Validates an Artifact document and compiles it. Throws ManifestError naming the field. */
export function compileArtifact(value: unknown, source = 'artifact'): Manifest {
  return compileValidArtifact(validateArtifact(value, source), source);
}

/** Compiles a validated Artifact into a job manifest. */
export function compileValidArtifact(a: ArtifactManifest, source = 'artifact'): Manifest {
  const plan: ArtifactPlan = { v: 1, steps: a.steps, privacy: a.privacy, data: 'dataset' in a.data ? { kind: 'named', name: a.data.dataset } : { kind: 'source' } };
  const rootDistribution = a.cluster.timing?.distribution ?? a.timing.distribution ?? a.distribution;
  const rootChildren = (a.cluster.clients ?? a.cluster.clusters ?? []).length;
  const rounds = totalRounds({ phases: phasesOf(plan), rootRoundsPerPass: rootDistribution === 'sequential' ? rootChildren : 1 });
  const firstTrain = a.steps.find((s) => s.kind === 'train');
  const train: TrainSpec = firstTrain?.train ?? { optimizer: { kind: 'sgd', lr: 0.1, momentum: 0 }, epochs: 1, batchSize: 1, mu: 0, seed: a.seed };
  const dataset: ManifestInput['dataset'] =
    'dataset' in a.data
      ? // The file is each node's own: the name is resolved by the node's --dataset registry.
        { source: { kind: 'csv', path: a.data.dataset, labelColumn: firstTrain?.kind === 'train' ? (firstTrain.labelColumn ?? '-') : '-' }, partition: { kind: 'iid' }, seed: a.seed }
      : { source: a.data.source, partition: a.data.partition, seed: a.seed, ...(a.data.distributor ? { distributor: a.data.distributor } : {}) };
  const manifest: ManifestInput = {
    apiVersion: 'canopy/v1',
    kind: 'Job',
    name: a.name,
    ...(a.description === undefined ? {} : { description: a.description }),
    model: firstTrain?.kind === 'train' ? firstTrain.model : NO_MODEL,
    train,
    consensus: a.consensus,
    stop: { rounds },
    dataset,
    timing: { ...a.timing, distribution: a.timing.distribution ?? a.distribution },
    allowModelDownload: a.allowResultDownload,
    maxWorkerFaults: a.maxWorkerFaults,
    cluster: withDistribution(a.cluster, a.timing.distribution ?? a.distribution, true),
    ...(a.peers ? { peers: a.peers } : {}),
    artifact: plan,
  };
  return validateManifest(manifest, source);
}

// Sets each cluster's distribution explicitly, and a sequential secondary cluster's local
// rounds to its number of children: one parent round is one pass over them, in order.
function withDistribution(c: ClusterSpec, inherited: 'collect' | 'sequential', root: boolean): ClusterSpec {
  const distribution = c.timing?.distribution ?? inherited;
  const children = (c.clients ?? c.clusters ?? []).length;
  const timing = { ...c.timing, distribution, ...(distribution === 'sequential' && !root ? { localRounds: children } : {}) };
  return {
    ...c,
    timing,
    ...(c.clusters ? { clusters: c.clusters.map((sub) => withDistribution(sub, distribution, false)) } : {}),
  };
}
