import { z } from 'zod';
import { BlobRef, envelopeShape } from './common.js';

// Step 5: the member the root host asked (`initFrom`) answers with freshly initialised parameters.

/** Payload of `init-params`. */
export const InitParamsPayload = z.strictObject({ ref: BlobRef });
export type InitParamsPayload = z.infer<typeof InitParamsPayload>;

/** `init-params`: the asked worker or client → root job topic. */
export const InitParamsMessage = z.strictObject({ ...envelopeShape, type: z.literal('init-params'), payload: InitParamsPayload });
export type InitParamsMessage = z.infer<typeof InitParamsMessage>;
