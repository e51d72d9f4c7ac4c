import { z } from 'zod';
import { MemberId } from '../manifest.js';
import { BlobRef, EvalMetrics, MemberStatusSchema, envelopeShape } from './common.js';

// A host's full snapshot of its job (steps 1-8). Hosts publish one on every change and on
// every heartbeat, with a rising `seq`; a member that missed one recovers from the next.

/**
 * How a round's clients are sampled: client c is sampled iff `sampleScore(seed, c) <= threshold`,
 * or, when `only` is set (a sequential cluster, PROTOCOL.md §6.3), iff c is `only`.
 */
export const SampleRule = z.strictObject({
  seed: z.number().int().min(0).max(0xffffffff),
  threshold: z.number().int().min(0).max(0xffffffff),
  only: z.string().min(1).max(256).optional(),
});
export type SampleRule = z.infer<typeof SampleRule>;

/** Most clients a snapshot names as `missing` at once; the rest are named once these are in. */
export const MAX_MISSING = 64;

/** Payload of a `state` message. */
export const StatePayload = z.strictObject({
  /** Step 1: job sheets may be fetched and ACKed. */
  jobsheetFlag: z.boolean(),
  /** Step 3: datasets may be fetched and ACKed. */
  datasetFlag: z.boolean(),
  /** 0 idle, 1 training, 2 aggregating, 3 finished. */
  processStage: z.number().int().min(0).max(3),
  /** k once every active client reached status k (setup only: 0, 1 or 2). */
  clientStage: MemberStatusSchema,
  workerStage: MemberStatusSchema,
  /** Retry counter of the current stage of the current round (quorum or consensus retries). */
  attempt: z.number().int().min(0).max(1000),
  /** For a secondary job: the parent's round this job is working for (0 before any). */
  parentRound: z.number().int().min(0),
  /** For a secondary job: which of its `localRounds` this round is (1-based; 0 before any). */
  localRound: z.number().int().min(0),
  /** The manifest blob every member's job sheet derives from. */
  manifest: BlobRef,
  /** Stage 1: the global parameters to train from. Stage 3: the final parameters. */
  global: BlobRef.nullable(),
  /** Stage 1: which clients train this round. */
  sample: SampleRule.nullable(),
  /** Stage 2: blob listing the round's accepted submissions, sorted by client id. */
  inputs: BlobRef.nullable(),
  inputCount: z.number().int().min(0),
  /** Step 5: the member asked for initial parameters. */
  initFrom: z.strictObject({ member: MemberId, role: z.enum(['worker', 'client']) }).nullable(),
  /** Workers excluded for disagreeing with consensus too often. */
  excludedWorkers: z.array(MemberId).max(64),
  /**
   * Stage 1: sampled clients whose heartbeat for this round says they submitted, but whose
   * submission the host does not hold (lost on the way). Only those resend (§6.12). Sorted, at most 64.
   */
  missing: z.array(z.string().min(1).max(256)).max(MAX_MISSING),
  /**
   * Members (client slots and workers) whose latest ACK or heartbeat claimed a setup level
   * with a job-sheet hash other than the one the host derives for them, so it was not
   * counted. Sorted, at most 64. A member named here is on another manifest or derives its
   * sheet differently, and is told so instead of waiting in silence.
   */
  wrongSheet: z.array(z.string().min(1).max(256)).max(MAX_MISSING),
  /** Weighted evaluation of the last closed round. */
  metrics: EvalMetrics.nullable(),
  /** Stage 3: why the job stopped (`rounds`, `targetAccuracy`, `targetLoss`, or a failure). */
  stopReason: z.string().max(500).nullable(),
  /** Stage 3: whether the final model may be downloaded from the root host. */
  downloadable: z.boolean(),
  /**
   * A cluster with `privacy.dp` (§6.14): the host's X25519 public key and the job's noise key
   * sealed to each worker whose key it holds (ChaCha20-Poly1305, 48 bytes), by worker id, hex.
   */
  noise: z
    .strictObject({
      hostKey: z.string().regex(/^[0-9a-f]{64}$/),
      sealed: z.record(MemberId, z.string().regex(/^[0-9a-f]{96}$/)).refine((r) => Object.keys(r).length <= 64, 'at most 64 workers'),
    })
    .optional(),
});
export type StatePayload = z.infer<typeof StatePayload>;

/** `state`: host → job topic. */
export const StateMessage = z.strictObject({ ...envelopeShape, type: z.literal('state'), payload: StatePayload });
export type StateMessage = z.infer<typeof StateMessage>;
