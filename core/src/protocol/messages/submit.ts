import { z } from 'zod';
import { BlobRef, EvalMetrics, envelopeShape } from './common.js';

// Step 6 (and step 7 for a secondary job): a client's trained parameters for a round, with
// the weight (sample count) and the evaluation of the round's global model on its test split.

/** Payload of `submit`. */
export const SubmitPayload = z.strictObject({
  /** The trained parameters. */
  ref: BlobRef,
  /** The hash of the global parameters trained from; must be the round's. */
  base: z.string().regex(/^[0-9a-f]{64}$/),
  /** Weight in aggregation: training samples (for a sub-job: the sum underneath). */
  samples: z.number().int().min(1),
  /** The round's global model on the client's test split (for a sub-job: weighted mean underneath). */
  eval: EvalMetrics,
  /** Mean loss and accuracy of local training. */
  train: z.strictObject({ loss: z.number().min(0).max(1e12), accuracy: z.number().min(0).max(1) }),
});
export type SubmitPayload = z.infer<typeof SubmitPayload>;

/** `submit`: client → job topic; sub-job host → parent topic, as client. */
export const SubmitMessage = z.strictObject({ ...envelopeShape, type: z.literal('submit'), payload: SubmitPayload });
export type SubmitMessage = z.infer<typeof SubmitMessage>;
