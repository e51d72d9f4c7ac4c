import { z } from 'zod';
import { BlobRef, envelopeShape } from './common.js';

// Step 7: a worker's aggregate of a round's inputs. Consensus compares `ref.hash`.

/** Payload of `aggregate`. */
export const AggregatePayload = z.strictObject({
  /** The aggregation attempt of the round (consensus retries raise it). */
  attempt: z.number().int().min(0).max(1000),
  /** The `inputs` blob aggregated; must be the round's. */
  inputs: z.string().regex(/^[0-9a-f]{64}$/),
  ref: BlobRef,
});
export type AggregatePayload = z.infer<typeof AggregatePayload>;

/** `aggregate`: worker → job topic. */
export const AggregateMessage = z.strictObject({ ...envelopeShape, type: z.literal('aggregate'), payload: AggregatePayload });
export type AggregateMessage = z.infer<typeof AggregateMessage>;
