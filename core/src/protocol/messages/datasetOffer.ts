import { z } from 'zod';
import { BlobRef, envelopeShape } from './common.js';

// Step 4: the distributor tells a leaf job where its clients' shards are. The index blob
// maps each client id to `{ train: BlobRef, test: BlobRef, samples }`.

/** Payload of `dataset-offer`. */
export const DatasetOfferPayload = z.strictObject({ index: BlobRef, clients: z.number().int().min(0) });
export type DatasetOfferPayload = z.infer<typeof DatasetOfferPayload>;

/** `dataset-offer`: distributor → leaf job topic. */
export const DatasetOfferMessage = z.strictObject({ ...envelopeShape, type: z.literal('dataset-offer'), payload: DatasetOfferPayload });
export type DatasetOfferMessage = z.infer<typeof DatasetOfferMessage>;
