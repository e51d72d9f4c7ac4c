import { z } from 'zod';
import { DatasetSpec, ModelSpec, PartitionSpec } from '../../spec/ml.js';
import { analyzeKeras } from '../../spec/keras/topology.js';
import { PrivacySpec } from '../../protocol/privacy.js';
import { Network, Reachability } from '../../net/network.js';
import type { Subscriber } from './channels.js';

// The one contract between the Canopy UI and a node. Electron's main process registers its
// IPC handlers from `apiMethods`, the preload exposes one named function per entry, and the
// WebSocket bridge of `canopy node --ui` decodes every call with the same schemas. Adding a
// method or event here makes the compiler point at the preload, the bridge and the store.
// This file is pure (zod, the ML specs and the network schemas only) so that the renderer
// can import it too.

const Text = z.string().max(4096);
const Id = z.string().min(1).max(256);
const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'a sha256 hex digest');
const Count = z.number().int().min(0);
const IsoTime = z.string().max(64);

/** The roles a data owner may offer to jobs. */
export const Roles = z.strictObject({ client: z.boolean(), worker: z.boolean() });
export type Roles = z.infer<typeof Roles>;

/** How much of this machine the owner lends to training. */
export const Limits = z.strictObject({
  threads: z.number().int().min(1).max(256),
  gpu: z.boolean(),
  idleOnly: z.boolean(),
});
export type Limits = z.infer<typeof Limits>;

/** Backends a node can train on; 'auto' lets the node pick the fastest that works. */
export const BackendChoice = z.enum(['auto', 'tfjs-node-gpu', 'tfjs-node', 'webgpu', 'webgl', 'wasm', 'cpu']);
export type BackendChoice = z.infer<typeof BackendChoice>;

/** One candidate backend and whether it can run here. */
export const BackendCandidate = z.strictObject({ name: BackendChoice.exclude(['auto']), available: z.boolean(), reason: Text.optional() });
export type BackendCandidate = z.infer<typeof BackendCandidate>;

/** The backend in use, the owner's pin, and the measured throughput. */
export const BackendStatus = z.strictObject({
  active: z.string().max(64),
  pinned: BackendChoice,
  candidates: z.array(BackendCandidate).max(16),
  /** Training throughput measured on this machine, most recent first-class figure. */
  samplesPerSec: z.number().min(0).optional(),
  reason: Text.optional(),
});
export type BackendStatus = z.infer<typeof BackendStatus>;

/** A peer this node is connected to. */
export const PeerInfo = z.strictObject({ peerId: Id, addresses: z.array(Text).max(64) });
export type PeerInfo = z.infer<typeof PeerInfo>;

/** Everything the Node screen shows. */
export const NodeInfo = z.strictObject({
  peerId: z.string().max(256),
  addresses: z.array(Text).max(64),
  peers: z.array(PeerInfo).max(10_000),
  roles: Roles,
  limits: Limits,
  backend: BackendStatus,
  running: z.boolean(),
  version: z.string().max(64),
  /** Training is paused because the owner is using this computer ("only while idle", desktop app only). */
  pausedForOwner: z.boolean().optional(),
  /** How others can reach this node (AutoNAT, relay slots); absent from a node that cannot tell. */
  reachability: Reachability.optional(),
  /** The networks the owner joined, newest last. */
  networks: z.array(Network).max(64).optional(),
});
export type NodeInfo = z.infer<typeof NodeInfo>;

/** Roles a job sheet can offer to a data owner. */
export const OfferedRole = z.enum(['client', 'worker']);
export type OfferedRole = z.infer<typeof OfferedRole>;

/** A job sheet offered to this node, as the owner sees it before accepting. */
export const Invitation = z.strictObject({
  id: Id,
  rootId: Id,
  job: Id,
  role: OfferedRole,
  submitter: Id,
  description: Text.optional(),
  model: ModelSpec,
  rounds: z.number().int().min(1),
  targetAccuracy: z.number().optional(),
  dataset: z.strictObject({ source: DatasetSpec, partition: PartitionSpec, distributor: Id.optional(), shard: z.strictObject({ index: Count, of: Count }).optional() }),
  /** The job sheet's `privacy`: differential privacy on this cluster's aggregate (PROTOCOL.md §6.14); absent when the job has none. */
  privacy: PrivacySpec.optional(),
  receivedAt: IsoTime,
  status: z.enum(['pending', 'accepted', 'declined']),
});
export type Invitation = z.infer<typeof Invitation>;

/** What the owner is asked before any dataset download (mirrors core's ConsentRequest). */
export const ConsentRequestSchema = z.strictObject({
  job: Id,
  rootJob: Id,
  submitter: Id,
  dataset: z.strictObject({ name: Text, hash: Sha256, size: Count, distributor: Id.optional(), purpose: Text }),
});

/** A consent question waiting for the owner. */
export const ConsentPrompt = z.strictObject({ id: Id, request: ConsentRequestSchema, askedAt: IsoTime });
export type ConsentPrompt = z.infer<typeof ConsentPrompt>;

/** A recorded consent decision (mirrors core's ConsentReceipt). */
export const Receipt = z.strictObject({
  id: Id,
  seq: Count,
  at: IsoTime,
  request: ConsentRequestSchema,
  decision: z.enum(['approved', 'refused', 'revoked']),
  by: z.enum(['policy', 'flag', 'owner']),
  reason: Text,
});
export type Receipt = z.infer<typeof Receipt>;

/** A local dataset the owner points at instead of downloading the distributor's shard. */
export const LocalDataset = DatasetSpec;
export type LocalDataset = z.infer<typeof LocalDataset>;

/** A small grayscale sample image: `pixels` holds width*height bytes, base64-encoded. */
export const SampleImage = z.strictObject({ label: Count, width: z.number().int().min(1).max(256), height: z.number().int().min(1).max(256), pixels: z.string().max(400_000) });
export type SampleImage = z.infer<typeof SampleImage>;

/** What the owner sees of a local dataset before approving it. */
export const DatasetPreview = z.strictObject({
  name: Text,
  samples: Count,
  classes: Count,
  /** Samples per label, index = label. */
  histogram: z.array(Count).max(100_000),
  images: z.array(SampleImage).max(64),
});
export type DatasetPreview = z.infer<typeof DatasetPreview>;

/** Where one job stands, from this node's point of view. */
export const TrainingJob = z.strictObject({
  rootId: Id,
  job: Id,
  role: z.enum(['client', 'worker', 'host', 'distributor']),
  /** The stages of this job and of its ancestors, root first (protocol section 1). */
  stages: z.array(z.strictObject({ job: Id, clientStage: Count, workerStage: Count, processStage: z.number().int().min(0).max(3) })).max(64),
  round: Count,
  rounds: Count,
  status: z.enum(['joining', 'waiting-consent', 'loading-data', 'waiting', 'training', 'submitted', 'aggregating', 'finished', 'withdrawn', 'failed']),
  reason: Text.optional(),
});
export type TrainingJob = z.infer<typeof TrainingJob>;

/** One round's evaluation, as charted. */
export const MetricPoint = z.strictObject({ rootId: Id, job: Id, round: Count, loss: z.number(), accuracy: z.number().min(0).max(1), samples: Count, at: IsoTime });
export type MetricPoint = z.infer<typeof MetricPoint>;

/** Local training progress within a round; sent at a high rate. */
export const BatchProgress = z.strictObject({
  rootId: Id,
  job: Id,
  round: Count,
  epoch: Count,
  epochs: Count,
  batch: Count,
  batches: Count,
  samplesPerSec: z.number().min(0),
});
export type BatchProgress = z.infer<typeof BatchProgress>;

/** Something that left this machine: a blob or message, its bytes, hashes and recipients. */
export const OutboxEntry = z.strictObject({
  id: Id,
  at: IsoTime,
  rootId: Id,
  job: Id,
  round: Count,
  kind: z.enum(['parameters', 'aggregate', 'ack', 'metrics', 'message']),
  bytes: Count,
  hashes: z.array(Sha256).max(1024),
  recipients: z.array(Id).max(10_000),
});
export type OutboxEntry = z.infer<typeof OutboxEntry>;

/** One structured log line. */
export const LogEntry = z.strictObject({
  seq: Count,
  at: IsoTime,
  level: z.enum(['debug', 'info', 'warn', 'error']),
  msg: Text,
  fields: z.record(z.string(), z.unknown()),
});
export type LogEntry = z.infer<typeof LogEntry>;

/** Everything the UI needs at start; events keep it current afterwards. */
export const Snapshot = z.strictObject({
  node: NodeInfo,
  invitations: z.array(Invitation),
  consents: z.array(ConsentPrompt),
  receipts: z.array(Receipt),
  training: z.array(TrainingJob),
  metrics: z.array(MetricPoint),
  outbox: z.array(OutboxEntry),
  logs: z.array(LogEntry),
});
export type Snapshot = z.infer<typeof Snapshot>;

const NoArgs = z.strictObject({});

/** Every request the UI can make: its single argument and its result. */
export const apiMethods = {
  getSnapshot: { arg: NoArgs, result: Snapshot },
  setRoles: { arg: Roles, result: NodeInfo },
  setLimits: { arg: Limits, result: NodeInfo },
  pinBackend: { arg: z.strictObject({ choice: BackendChoice }), result: BackendStatus },
  respondInvitation: { arg: z.strictObject({ id: Id, accept: z.boolean() }), result: Invitation },
  decideConsent: { arg: z.strictObject({ id: Id, approve: z.boolean(), localDataset: LocalDataset.optional() }), result: Receipt },
  previewDataset: { arg: z.strictObject({ source: LocalDataset }), result: DatasetPreview },
  revokeReceipt: { arg: z.strictObject({ id: Id }), result: Receipt },
  /** Joins a network from its file's text (YAML/JSON) or its invite link; the node parses it. */
  joinNetwork: { arg: z.strictObject({ text: z.string().min(1).max(64 * 1024) }), result: NodeInfo },
} as const;

/** Every event a node pushes to the UI, with its payload. */
export const apiEvents = {
  node: NodeInfo,
  invitation: Invitation,
  consentPrompt: ConsentPrompt,
  consentClosed: z.strictObject({ id: Id }),
  receipt: Receipt,
  training: TrainingJob,
  metric: MetricPoint,
  progress: BatchProgress,
  outbox: OutboxEntry,
  log: LogEntry,
} as const;

/** A request's name. */
export type MethodName = keyof typeof apiMethods;
/** An event's name. */
export type EventName = keyof typeof apiEvents;
/** A request's argument. */
export type MethodArg<M extends MethodName> = z.input<(typeof apiMethods)[M]['arg']>;
/** A request's result. */
export type MethodResult<M extends MethodName> = z.output<(typeof apiMethods)[M]['result']>;
/** An event's payload. */
export type EventPayload<E extends EventName> = z.output<(typeof apiEvents)[E]>;

/** A request's argument once decoded, defaults applied: what a handler receives. */
export type MethodDecodedArg<M extends MethodName> = z.output<(typeof apiMethods)[M]['arg']>;

/** The node side of the requests: each handler gets its decoded argument. */
export type ApiHandlers = { [M in MethodName]: (arg: MethodDecodedArg<M>) => Promise<MethodResult<M>> };

/** The requests, as functions; what every transport implements. */
export type ApiRequests = { [M in MethodName]: (arg: MethodArg<M>) => Promise<MethodResult<M>> };

export type { Subscriber } from './channels.js';

/** The subscriptions, one per event; each returns its unsubscribe function. */
export type ApiSubscriptions = { [E in EventName as Subscriber<E>]: (listener: (payload: EventPayload<E>) => void) => () => void };

/** The whole API the UI talks to: Electron's preload and the browser bridge both implement it. */
export type CanopyApi = ApiRequests & ApiSubscriptions;

/** Whether a string names a request. */
export function isMethodName(name: unknown): name is MethodName {
  return typeof name === 'string' && Object.hasOwn(apiMethods, name);
}

/**
 * Layers and parameters of a `keras` model, for saying what a job's model is before its owner
 * consents; undefined for a built-in (its kind says it) or a topology that does not check.
 */
export function kerasSummary(model: ModelSpec): { layers: number; params: number } | undefined {
  if (model.kind !== 'keras') return undefined;
  try {
    const g = analyzeKeras(model.topology, model);
    return { layers: g.layers.length, params: g.paramCount };
  } catch {
    return undefined;
  }
}
