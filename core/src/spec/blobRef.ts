import { z } from 'zod';

/** A sha256 digest as 64 lowercase hex digits: how every blob is addressed. */
export const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * A content-addressed blob: sha256 hex of its bytes, and its size. Messages name blobs by it,
 * the storage layer files them under it, and the blob exchange fetches them by it.
 */
export const BlobRef = z.strictObject({
  hash: z.string().regex(SHA256_HEX, 'sha256 as 64 lowercase hex digits'),
  size: z.number().int().min(0).max(2 ** 40),
});
export type BlobRef = z.infer<typeof BlobRef>;
