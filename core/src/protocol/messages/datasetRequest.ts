import { z } from 'zod';
import { envelopeShape } from './common.js';

// Step 4: a client that has consent but no offer asks the distributor to repeat it.

/** Payload of `dataset-request` (empty: the envelope says who and where). */
export const DatasetRequestPayload = z.strictObject({});
export type DatasetRequestPayload = z.infer<typeof DatasetRequestPayload>;

/** `dataset-request`: client → leaf job topic. */
export const DatasetRequestMessage = z.strictObject({ ...envelopeShape, type: z.literal('dataset-request'), payload: DatasetRequestPayload });
export type DatasetRequestMessage = z.infer<typeof DatasetRequestMessage>;
