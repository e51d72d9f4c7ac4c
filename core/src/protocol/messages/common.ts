import { z } from 'zod';
import { MemberId } from '../manifest.js';

// The envelope every control-plane message shares (DESIGN.md, "Control plane"): type, job,
// round, sequence, sender, the member and role it speaks as, and a payload. Payloads carry
// only blob references, never parameters: gossip caps a message at 4 MiB.

/** The wire version of every message; a peer rejects a version it does not speak. */
export const MESSAGE_VERSION = 1;

/** The closed set of message types. Adding one makes the compiler point at every handler. */
export const MessageType = {
  State: 'state',
  Ack: 'ack',
  Heartbeat: 'heartbeat',
  InitParams: 'init-params',
  Submit: 'submit',
  Aggregate: 'aggregate',
  DatasetOffer: 'dataset-offer',
  DatasetRequest: 'dataset-request',
} as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

// Blobs are named by the spec layer's BlobRef; re-exported with the message vocabulary.
export { BlobRef } from '../../spec/blobRef.js';

/** A member's status in a job (DESIGN.md, "The protocol"). */
export const MemberStatus = {
  Assigned: 0,
  SheetAcked: 1,
  DatasetAcked: 2,
  Busy: 3,
  Submitted: 4,
  Finished: 5,
} as const;
export type MemberStatus = (typeof MemberStatus)[keyof typeof MemberStatus];
export const MemberStatusSchema = z.number().int().min(0).max(5);

/** `ProcessStage`: 0 idle, 1 training, 2 aggregating, 3 finished. */
export const ProcessStage = { Idle: 0, Training: 1, Aggregating: 2, Finished: 3 } as const;
export type ProcessStage = (typeof ProcessStage)[keyof typeof ProcessStage];

/** Who speaks in a message. */
export const RoleSchema = z.enum(['host', 'client', 'worker', 'distributor']);

/** Evaluation of a model on some test samples. */
export const EvalMetrics = z.strictObject({
  loss: z.number().min(0).max(1e12),
  accuracy: z.number().min(0).max(1),
  samples: z.number().int().min(0),
});
export type EvalMetrics = z.infer<typeof EvalMetrics>;

/** The fields of the envelope, shared by every message schema. */
export const envelopeShape = {
  /** Wire version; see {@link MESSAGE_VERSION}. */
  v: z.literal(MESSAGE_VERSION),
  /** The root job's id, as in the topic. */
  root: z.string().min(1).max(128),
  /** The job this message is about; must be the job of the topic it arrives on. */
  job: z.string().min(1).max(256),
  /** The job's round the message belongs to (0 before training starts). */
  round: z.number().int().min(0).max(1e9),
  /** Rises with every message the sender sends as this member and role in this job. */
  seq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  /** The peer that signed the message; must equal the gossip signer. */
  sender: MemberId,
  /** The id the sender speaks as in this job: itself, or the sub-job it hosts. */
  member: z.string().min(1).max(256),
  role: RoleSchema,
};
