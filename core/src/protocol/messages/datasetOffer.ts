import { z } from 'zod';
import { BlobRef, envelopeShape } from './common.js';

// Step 4: the distributor tells a leaf job where its clients' shards are. The index blob
// maps each client id to `{ train: BlobRef, test: BlobRef, samples }`. If it cannot prepare
// the dataset at all, it tells the root job why instead (§4.8), and the root ends the job.

/** The longest failure reason a distributor may publish: `dataset unavailable: <error>` fits a state's `stopReason`. */
export const MAX_DATASET_ERROR_CHARS = 400;

/** Payload of `dataset-offer`: an index for a leaf job, or, to the root job, why there is none. */
export const DatasetOfferPayload = z.union([
  z.strictObject({ index: BlobRef, clients: z.number().int().min(0) }),
  z.strictObject({ error: z.string().min(1).max(MAX_DATASET_ERROR_CHARS) }),
]);
export type DatasetOfferPayload = z.infer<typeof DatasetOfferPayload>;

/** `dataset-offer`: distributor → leaf job topic (an index), or → root job topic (an error). */
export const DatasetOfferMessage = z.strictObject({ ...envelopeShape, type: z.literal('dataset-offer'), payload: DatasetOfferPayload });
export type DatasetOfferMessage = z.infer<typeof DatasetOfferMessage>;
