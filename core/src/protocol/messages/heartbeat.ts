import { z } from 'zod';
import { MemberStatusSchema, envelopeShape } from './common.js';

// Heartbeats: a member says it is alive and where it is. A heartbeat also carries the
// member's ACK level, so a lost `ack` is recovered by the next heartbeat.

/** What kind of work a member could not do (PROTOCOL.md §6.13). */
export const FailureKind = z.enum(['data', 'train', 'evaluate', 'aggregate', 'init']);
export type FailureKind = z.infer<typeof FailureKind>;

/** The longest failure reason a member sends; longer ones are cut. */
export const MAX_FAILURE_REASON = 200;

/**
 * A member's report that it could not do its part (§6.13): what kind of work, for which
 * round, how many times in a row it has failed, and why (the error, cut to 200 characters).
 */
export const MemberFailure = z.strictObject({
  kind: FailureKind,
  round: z.number().int().min(0),
  attempts: z.number().int().min(1).max(1_000_000),
  reason: z.string().min(1).max(MAX_FAILURE_REASON),
});
export type MemberFailure = z.infer<typeof MemberFailure>;

/** Payload of a `heartbeat`. */
export const HeartbeatPayload = z.strictObject({
  status: MemberStatusSchema,
  /** 0, 1 or 2: the highest setup stage the member has ACKed. */
  acked: z.number().int().min(0).max(2),
  sheetHash: z.string().regex(/^[0-9a-f]{64}$/),
  refused: z.boolean(),
  samples: z.number().int().min(0),
  /** Set while the member's last attempt at some work failed (§6.13); absent otherwise. */
  failure: MemberFailure.optional(),
  /** A worker of a cluster with `privacy.dp`: its X25519 public key for the noise key (§6.14), hex. */
  noiseKey: z.string().regex(/^[0-9a-f]{64}$/).optional(),
});
export type HeartbeatPayload = z.infer<typeof HeartbeatPayload>;

/** `heartbeat`: client or worker → job topic; sub-job host → parent topic. */
export const HeartbeatMessage = z.strictObject({ ...envelopeShape, type: z.literal('heartbeat'), payload: HeartbeatPayload });
export type HeartbeatMessage = z.infer<typeof HeartbeatMessage>;
