import { z } from 'zod';

// A job's privacy settings (docs/PRIVACY.md): client-level differential privacy on every leaf
// cluster's aggregate (PROTOCOL.md §6.14).

/**
 * Client-level DP-FedAvg: each client's update clipped to L2 norm `clip`, Gaussian noise of
 * standard deviation `noiseMultiplier`·`clip` on each leaf cluster's sum, an RDP accountant
 * reporting ε for `delta` after every round, and an optional ε `budget` that ends the job before
 * a round would spend more.
 */
export const DpSpec = z.strictObject({
  clip: z.number().positive().max(1e6),
  noiseMultiplier: z.number().min(0.001).max(1e4),
  delta: z.number().gt(0).max(0.1),
  budget: z.number().positive().max(1e6).optional(),
});
export type DpSpec = z.infer<typeof DpSpec>;

/** The manifest's `privacy` section. */
export const PrivacySpec = z.strictObject({ dp: DpSpec });
export type PrivacySpec = z.infer<typeof PrivacySpec>;
