import { z } from 'zod';
import { parseDocument } from 'yaml';
import { AggregatorSpec, DatasetSpec, ModelSpec, PartitionSpec, TrainSpec } from '../spec/ml.js';
import { ManifestError } from '../util/errors.js';
import { PrivacySpec } from './privacy.js';
import { ArtifactPlan } from '../spec/artifactPlan.js';
import { MANIFEST_LIMITS, checkManifestText, checkManifestValue } from './manifestLimits.js';

// The job manifest: what a submitter writes to start a job (DESIGN.md, protocol step 1).
// It is YAML, validated by this schema; errors name the field, what was expected and what
// was found.

/** A member of a job: an opaque id (a libp2p peer id, or a node name mapped to one in `peers`). */
export const MemberId = z.string().min(1).max(256).regex(/^[A-Za-z0-9._:@-]+$/, 'letters, digits and . _ : @ - only');
export type MemberId = z.infer<typeof MemberId>;

/** How a worker set agrees on an aggregate: by hash of the aggregate bytes (step 7). */
export const ConsensusRule = z.enum(['majority_2_3', 'unanimous', 'single']);
export type ConsensusRule = z.infer<typeof ConsensusRule>;

/** Per-cluster timing and participation. Unset fields inherit from the parent cluster, then the defaults. */
export const TimingSpec = z.strictObject({
  /** Seconds a round may take before the host closes it with whatever quorum it has. */
  roundDeadlineSeconds: z.number().positive().max(7 * 24 * 3600).optional(),
  /** Fraction of the round's sampled clients that must submit for the round to count. */
  quorum: z.number().gt(0).max(1).optional(),
  /** Fraction of clients sampled to train in each round (at least one is always sampled). */
  sampleFraction: z.number().gt(0).max(1).optional(),
  /** Seconds between heartbeats; a member silent for 3 intervals is marked offline. */
  heartbeatSeconds: z.number().positive().max(3600).optional(),
  /** Rounds this cluster runs locally per round of its parent (ignored at the root). */
  localRounds: z.number().int().min(1).max(1000).optional(),
  /**
   * How the cluster's clients take part in a round: `collect` (broadcast/collect: the sampled
   * clients work in parallel) or `sequential` (one client per round, in the listed order;
   * PROTOCOL.md §6.3).
   */
  distribution: z.enum(['collect', 'sequential']).optional(),
});
export type TimingSpec = z.infer<typeof TimingSpec>;

/** The timing every cluster gets when neither it nor an ancestor sets a field. */
export const DEFAULT_TIMING: Required<TimingSpec> = {
  roundDeadlineSeconds: 300,
  quorum: 1,
  sampleFraction: 1,
  heartbeatSeconds: 5,
  localRounds: 1,
  distribution: 'collect',
};

/** A cluster: its host, its workers, and either its clients (a leaf) or its sub-clusters. */
export interface ClusterSpec {
  host: MemberId;
  workers: MemberId[];
  clients?: MemberId[] | undefined;
  clusters?: ClusterSpec[] | undefined;
  timing?: TimingSpec | undefined;
}
export const ClusterSpec: z.ZodType<ClusterSpec> = z.lazy(() =>
  z
    .strictObject({
      host: MemberId,
      workers: z.array(MemberId).min(1, 'a cluster needs at least one worker').max(64),
      clients: z.array(MemberId).min(1, 'a leaf cluster needs at least one client').max(100_000).optional(),
      clusters: z.array(ClusterSpec).min(1).max(MANIFEST_LIMITS.maxFanOut).optional(),
      timing: TimingSpec.optional(),
    })
    .superRefine((c, ctx) => {
      if ((c.clients === undefined) === (c.clusters === undefined)) {
        ctx.addIssue({ code: 'custom', message: 'a cluster has either `clients` (a leaf) or `clusters` (sub-clusters), exactly one of the two' });
      }
      const dup = firstDuplicate(c.workers);
      if (dup) ctx.addIssue({ code: 'custom', path: ['workers'], message: `worker ${dup} is listed twice` });
      const dupC = c.clients ? firstDuplicate(c.clients) : undefined;
      if (dupC) ctx.addIssue({ code: 'custom', path: ['clients'], message: `client ${dupC} is listed twice` });
    }),
);

/** Stop conditions, checked at the root after each round; whichever holds first stops the job. */
export const StopSpec = z
  .strictObject({
    rounds: z.number().int().min(1).max(100_000),
    targetAccuracy: z.number().gt(0).max(1).optional(),
    targetLoss: z.number().positive().optional(),
  });
export type StopSpec = z.infer<typeof StopSpec>;

/** The data a job trains on, and how it is split among the leaf clients. */
export const JobDatasetSpec = z.strictObject({
  source: DatasetSpec,
  partition: PartitionSpec.default({ kind: 'iid' }),
  /** Seed of the partitioning, so every member derives the same split. */
  seed: z.number().int().default(0),
  /** The member that serves dataset chunks; without one, members load the source locally. */
  distributor: MemberId.optional(),
});
export type JobDatasetSpec = z.infer<typeof JobDatasetSpec>;

/** How a node named in the manifest is reached, for runtimes that need it. */
export const PeerSpec = z.strictObject({
  peerId: z.string().min(1).optional(),
  addresses: z.array(z.string().min(1)).optional(),
});

/** A complete job manifest. */
export const Manifest = z.strictObject({
  apiVersion: z.literal('canopy/v1'),
  kind: z.literal('Job'),
  /** The root job's name `J`; sub-jobs are named `J#0`, `J#0_1`, ... */
  name: z.string().min(1).max(64).regex(/^[A-Za-z0-9._-]+$/, 'letters, digits and . _ - only (# is reserved for sub-jobs)'),
  description: z.string().max(2000).optional(),
  model: ModelSpec,
  train: TrainSpec,
  aggregator: AggregatorSpec.default({ kind: 'fedavg' }),
  consensus: ConsensusRule.default('majority_2_3'),
  stop: StopSpec,
  dataset: JobDatasetSpec,
  /** Defaults for every cluster; each cluster may override. */
  timing: TimingSpec.default({}),
  /** Whether members may download the final model from the root host. */
  allowModelDownload: z.boolean().default(false),
  /** Workers whose aggregate disagrees with consensus this many times are excluded. */
  maxWorkerFaults: z.number().int().min(1).default(2),
  cluster: ClusterSpec,
  /**
   * The parameter blob format every member writes and reads (PROTOCOL.md §13): `cnpy` (real
   * training) or `cnsy` (synthetic compute). A node whose compute writes the other one refuses
   * the job. Unset: each node's compute decides, and members must agree out of band.
   */
  parameterFormat: z.enum(['cnpy', 'cnsy']).optional(),
  peers: z.record(MemberId, PeerSpec).optional(),
  /** Differential privacy for every leaf cluster (docs/PRIVACY.md, PROTOCOL.md §6.14). */
  privacy: PrivacySpec.optional(),
  /** Set when the job was compiled from an Artifact (docs/ARTIFACTS.md): the steps every member runs. */
  artifact: ArtifactPlan.optional(),
});
export type Manifest = z.infer<typeof Manifest>;
/** A manifest as written, before defaults are applied. */
export type ManifestInput = z.input<typeof Manifest>;

/**
 * Parses and validates a YAML manifest. Throws {@link ManifestError} listing every problem
 * as `field.path: expected X, found Y`; `source` names the file in those messages.
 */
export function parseManifest(yamlText: string, source = 'manifest'): Manifest {
  return validateManifest(parseManifestYaml(yamlText, source), source);
}

/**
 * Parses manifest (or scenario) YAML into a plain value within {@link MANIFEST_LIMITS}: too
 * large, too deeply nested or alias-bombed text is a {@link ManifestError}, never a stack
 * overflow or a library's own exception.
 */
export function parseManifestYaml(yamlText: string, source = 'manifest'): unknown {
  const tooBig = checkManifestText(yamlText);
  if (tooBig) throw new ManifestError(source, [tooBig]);
  // logLevel 'error': a warning (a collection used as a key) would go to stderr as a process warning.
  const doc = parseDocument(yamlText, { prettyErrors: true, uniqueKeys: true, logLevel: 'error' });
  if (doc.errors.length > 0) {
    throw new ManifestError(source, doc.errors.map((e) => `YAML syntax: ${e.message.split('\n')[0]}`));
  }
  try {
    return doc.toJS({ maxAliasCount: MANIFEST_LIMITS.maxAliases });
  } catch (err) {
    // yaml throws a ReferenceError for an alias bomb or an alias to nothing.
    const message = err instanceof Error ? err.message : String(err);
    const limit = /excessive alias/i.test(message) ? ` (at most ${MANIFEST_LIMITS.maxAliases} alias expansions)` : '';
    throw new ManifestError(source, [`YAML aliases: ${message}${limit}`]);
  }
}

/** Validates an already-parsed manifest object (see {@link parseManifest}). */
export function validateManifest(value: unknown, source = 'manifest'): Manifest {
  const outOfBounds = checkManifestValue(value);
  if (outOfBounds) throw new ManifestError(source, [outOfBounds]);
  const result = Manifest.safeParse(value);
  if (!result.success) throw new ManifestError(source, formatZodIssues(result.error.issues, value));
  const manifest = result.data;
  const problems = checkTreeLimits(manifest.cluster);
  if (problems.length === 0) problems.push(...checkMembership(manifest), ...checkPrivacy(manifest));
  if (problems.length > 0) throw new ManifestError(source, problems);
  return manifest;
}

/** Turns zod issues into `path: expected ..., found ...` lines. */
export function formatZodIssues(issues: readonly z.core.$ZodIssue[], input: unknown): string[] {
  return issues.map((issue) => {
    const path = issue.path.length > 0 ? issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') : '(top level)';
    const found = describeValue(valueAt(input, issue.path));
    // zod says "received number"; the value itself, which we add, says more.
    const message = issue.message.replace(/, received \w+$/, '');
    return `${path}: ${message}${found === undefined ? '' : `; found ${found}`}`;
  });
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = input;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

function describeValue(v: unknown): string | undefined {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return `a list of ${v.length}`;
  if (typeof v === 'object') return 'an object';
  const text = JSON.stringify(v);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

// The tree's shape within MANIFEST_LIMITS: how deep clusters nest, how many sub-clusters one
// has, and how many clusters and client slots there are in all. Iterative, like every walk
// that runs before these bounds are known to hold.
function checkTreeLimits(root: ClusterSpec): string[] {
  const stack: { c: ClusterSpec; path: string; depth: number }[] = [{ c: root, path: 'cluster', depth: 0 }];
  let clusters = 0;
  let clients = 0;
  while (stack.length > 0) {
    const { c, path, depth } = stack.pop()!;
    if (depth > MANIFEST_LIMITS.maxClusterDepth) return [`${path}: clusters nested more than ${MANIFEST_LIMITS.maxClusterDepth} levels below the root cluster`];
    if ((c.clusters?.length ?? 0) > MANIFEST_LIMITS.maxFanOut) return [`${path}.clusters: ${c.clusters!.length} sub-clusters, more than the limit of ${MANIFEST_LIMITS.maxFanOut}`];
    if (++clusters > MANIFEST_LIMITS.maxClusters) return [`cluster: more than ${MANIFEST_LIMITS.maxClusters} clusters in the tree`];
    clients += c.clients?.length ?? 0;
    if (clients > MANIFEST_LIMITS.maxClients) return [`${path}.clients: more than ${MANIFEST_LIMITS.maxClients} clients in the tree`];
    c.clusters?.forEach((sub, i) => stack.push({ c: sub, path: `${path}.clusters[${i}]`, depth: depth + 1 }));
  }
  return [];
}

// Rules that span the tree: a member may not be a client of two leaf clusters, nor a client
// of a cluster it hosts or works for (its own submission would count as a client's, and one
// peer would hold two statuses in one job), so status bookkeeping stays unambiguous.
function checkMembership(m: Manifest): string[] {
  const problems: string[] = [];
  const clientOf = new Map<string, string>();
  const walk = (c: ClusterSpec, path: string) => {
    for (const client of c.clients ?? []) {
      if (client === c.host) problems.push(`${path}.clients: ${client} hosts this cluster and may not also be one of its clients`);
      else if (c.workers.includes(client)) problems.push(`${path}.clients: ${client} is a worker of this cluster and may not also be one of its clients`);
      const prev = clientOf.get(client);
      if (prev) problems.push(`${path}.clients: ${client} is already a client in ${prev}; a peer trains in one leaf cluster only`);
      else clientOf.set(client, path);
    }
    c.clusters?.forEach((sub, i) => walk(sub, `${path}.clusters[${i}]`));
  };
  walk(m.cluster, 'cluster');
  return problems;
}

// DP-FedAvg's sensitivity argument holds for the plain average of clipped updates, so a DP job
// aggregates with fedavg; `dp-fedavg` is what workers build from `privacy.dp`, not a choice.
function checkPrivacy(m: Manifest): string[] {
  if (m.aggregator.kind === 'dp-fedavg') return ['aggregator.kind: dp-fedavg is set through privacy.dp, not chosen directly; use kind fedavg and a privacy.dp section'];
  if (m.privacy && m.aggregator.kind !== 'fedavg') return [`aggregator.kind: a job with privacy.dp aggregates with fedavg (the average of clipped updates the noise is calibrated to); found ${m.aggregator.kind}`];
  if (m.privacy && m.artifact) return ['privacy: differential privacy applies to training jobs; an artifact job has its own privacy guards (docs/ARTIFACTS.md)'];
  return [];
}

function firstDuplicate(items: readonly string[]): string | undefined {
  const seen = new Set<string>();
  for (const x of items) {
    if (seen.has(x)) return x;
    seen.add(x);
  }
  return undefined;
}
