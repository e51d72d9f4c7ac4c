import { z } from 'zod';
import { AggregatorSpec, ModelSpec, PartitionSpec, TrainSpec, DatasetSpec } from '../spec/ml.js';
import { hashJson } from '../util/hash.js';
import { ConsensusRule, MemberId, StopSpec, TimingSpec } from './manifest.js';
import { PrivacySpec } from './privacy.js';
import { jobOf, jobTopic, type JobTree } from './jobTree.js';

// Job sheets (protocol step 2): what one member needs to play one role in one job. Every
// sheet is derived from the manifest, so a member and its host derive the same bytes; the
// member ACKs with the sheet's hash and the host checks it, which proves both read the same
// manifest without shipping a sheet per member over gossip.

/** The roles of the protocol. */
export type Role = 'host' | 'client' | 'worker' | 'distributor';

/** One member's job sheet for one role in one job. */
export interface JobSheet {
  readonly v: 1;
  readonly rootId: string;
  readonly manifestHash: string;
  readonly job: string;
  readonly topic: string;
  readonly role: Role;
  readonly member: MemberId;
  /** The member that hosts this job. */
  readonly host: MemberId;
  /** For a host of a secondary job: the parent job and the id this job has there as a client. */
  readonly upstream?: { readonly job: string; readonly topic: string; readonly host: MemberId; readonly asClient: string };
  /** For a host: its sub-jobs. */
  readonly downstream: readonly string[];
  readonly model: ModelSpec;
  readonly train: TrainSpec;
  readonly aggregator: AggregatorSpec;
  readonly consensus: ConsensusRule;
  readonly stop: StopSpec;
  readonly dataset: {
    readonly source: DatasetSpec;
    readonly partition: PartitionSpec;
    readonly seed: number;
    readonly distributor?: MemberId;
    /** For a leaf client: its shard, `index` of `of` leaf clients in tree order. */
    readonly shard?: { readonly index: number; readonly of: number };
  };
  readonly timing: Required<TimingSpec>;
  readonly allowModelDownload: boolean;
  readonly maxWorkerFaults: number;
  /** The manifest's `privacy`, in the sheets of leaf jobs only: the clusters that apply it (PROTOCOL.md §6.14). */
  readonly privacy?: PrivacySpec;
}

/**
 * The job sheet's exact shape, for documentation (docs/protocol/schemas) and tests: every
 * sheet {@link deriveJobSheet} returns parses with it, and nothing else does.
 */
export const JobSheetSchema = z.strictObject({
  v: z.literal(1),
  rootId: z.string().min(1),
  manifestHash: z.string().regex(/^[0-9a-f]{64}$/),
  job: z.string().min(1),
  topic: z.string().min(1),
  role: z.enum(['host', 'client', 'worker', 'distributor']),
  member: MemberId,
  host: MemberId,
  upstream: z.strictObject({ job: z.string().min(1), topic: z.string().min(1), host: MemberId, asClient: z.string().min(1) }).optional(),
  downstream: z.array(z.string().min(1)),
  model: ModelSpec,
  train: TrainSpec,
  aggregator: AggregatorSpec,
  consensus: ConsensusRule,
  stop: StopSpec,
  dataset: z.strictObject({
    source: DatasetSpec,
    partition: PartitionSpec,
    seed: z.number().int(),
    distributor: MemberId.optional(),
    shard: z.strictObject({ index: z.number().int().min(0), of: z.number().int().min(1) }).optional(),
  }),
  timing: TimingSpec.required(),
  allowModelDownload: z.boolean(),
  maxWorkerFaults: z.number().int().min(1),
  privacy: PrivacySpec.optional(),
});

/** Derives one job sheet. Throws if the member does not play that role in that job. */
export function deriveJobSheet(tree: JobTree, job: string, role: Role, member: MemberId): JobSheet {
  const node = jobOf(tree, job);
  const m = tree.manifest;
  let shard: { index: number; of: number } | undefined;
  if (role === 'host' && node.host !== member) throw new Error(`${member} does not host ${job}`);
  if (role === 'worker' && !node.workers.includes(member)) throw new Error(`${member} is not a worker of ${job}`);
  if (role === 'client') {
    if (!node.leaf || !node.clientById.has(member)) throw new Error(`${member} is not a client of leaf job ${job}`);
    shard = { index: tree.shardIndex.get(member)!, of: tree.shardIndex.size };
  }
  if (role === 'distributor' && tree.distributor !== member) throw new Error(`${member} is not the distributor of ${tree.root}`);
  const parent = node.parent === undefined ? undefined : jobOf(tree, node.parent);
  return {
    v: 1,
    rootId: tree.rootId,
    manifestHash: tree.manifestHash,
    job,
    topic: jobTopic(tree.rootId, job),
    role,
    member,
    host: node.host,
    ...(role === 'host' && parent ? { upstream: { job: parent.name, topic: jobTopic(tree.rootId, parent.name), host: parent.host, asClient: job } } : {}),
    downstream: role === 'host' ? node.children : [],
    model: m.model,
    train: m.train,
    aggregator: m.aggregator,
    consensus: m.consensus,
    stop: m.stop,
    dataset: {
      source: m.dataset.source,
      partition: m.dataset.partition,
      seed: m.dataset.seed,
      ...(m.dataset.distributor === undefined ? {} : { distributor: m.dataset.distributor }),
      ...(shard ? { shard } : {}),
    },
    timing: node.timing,
    allowModelDownload: m.allowModelDownload,
    maxWorkerFaults: m.maxWorkerFaults,
    ...(m.privacy && node.leaf ? { privacy: m.privacy } : {}),
  };
}

/** The hash a member ACKs with (step 2); hosts compare it with their own derivation. */
export function jobSheetHash(sheet: JobSheet): string {
  return hashJson(sheet);
}

// Trees are immutable once built, so a sheet's hash is a pure function of (tree, job, role,
// member). Hosts check it on every ACK of every member; hashing the sheet anew each time
// was a visible share of a 10,000-client simulation.
const derivedHashes = new WeakMap<JobTree, Map<string, string>>();

/** `jobSheetHash(deriveJobSheet(tree, job, role, member))`, remembered per tree. Throws as {@link deriveJobSheet} does. */
export function derivedSheetHash(tree: JobTree, job: string, role: Role, member: MemberId): string {
  let byKey = derivedHashes.get(tree);
  if (!byKey) derivedHashes.set(tree, (byKey = new Map()));
  const key = `${role}|${job}|${member}`;
  let hash = byKey.get(key);
  if (hash === undefined) {
    hash = jobSheetHash(deriveJobSheet(tree, job, role, member));
    byKey.set(key, hash);
  }
  return hash;
}

/** Every job sheet of one member: one per role it plays in any job of the tree. */
export function jobSheetsFor(tree: JobTree, member: MemberId): JobSheet[] {
  const sheets: JobSheet[] = [];
  for (const node of tree.jobs.values()) {
    if (node.host === member) sheets.push(deriveJobSheet(tree, node.name, 'host', member));
    if (node.workers.includes(member)) sheets.push(deriveJobSheet(tree, node.name, 'worker', member));
    if (node.leaf && node.clientById.has(member)) sheets.push(deriveJobSheet(tree, node.name, 'client', member));
  }
  if (tree.distributor === member) sheets.push(deriveJobSheet(tree, tree.root, 'distributor', member));
  return sheets;
}
