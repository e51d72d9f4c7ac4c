import { z } from 'zod';
import { MemberStatusSchema, envelopeShape } from './common.js';

// Heartbeats: a member says it is alive and where it is. A heartbeat also carries the
// member's ACK level, so a lost `ack` is recovered by the next heartbeat.

/** Payload of a `heartbeat`. */
export const HeartbeatPayload = z.strictObject({
  status: MemberStatusSchema,
  /** 0, 1 or 2: the highest setup stage the member has ACKed. */
  acked: z.number().int().min(0).max(2),
  sheetHash: z.string().regex(/^[0-9a-f]{64}$/),
  refused: z.boolean(),
  samples: z.number().int().min(0),
});
export type HeartbeatPayload = z.infer<typeof HeartbeatPayload>;

/** `heartbeat`: client or worker → job topic; sub-job host → parent topic. */
export const HeartbeatMessage = z.strictObject({ ...envelopeShape, type: z.literal('heartbeat'), payload: HeartbeatPayload });
export type HeartbeatMessage = z.infer<typeof HeartbeatMessage>;
