import { z } from 'zod';
import { envelopeShape } from './common.js';

// Steps 2 and 4: a member (or a sub-job, through its host) ACKs its job sheet or its dataset.

/** Payload of an `ack`. */
export const AckPayload = z.strictObject({
  /** 1: job sheet ACKed; 2: dataset ACKed. */
  stage: z.union([z.literal(1), z.literal(2)]),
  /** sha256 of the member's job sheet (for a sub-job: of its host's sheet); must match the host's derivation. */
  sheetHash: z.string().regex(/^[0-9a-f]{64}$/),
  /** Stage 2 only: the data owner refused consent; the member withdraws from training. */
  refused: z.boolean(),
  /** Stage 2: training samples the member holds (for a sub-job, the sum underneath). */
  samples: z.number().int().min(0),
});
export type AckPayload = z.infer<typeof AckPayload>;

/** `ack`: client or worker → job topic; a sub-job's host → parent topic, as client. */
export const AckMessage = z.strictObject({ ...envelopeShape, type: z.literal('ack'), payload: AckPayload });
export type AckMessage = z.infer<typeof AckMessage>;
