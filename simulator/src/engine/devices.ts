import { z } from 'zod';
import type { Rng } from '@canopy/core/util';

/** A class of device: how fast it trains, its links, and how reliably it is there. */
export const DeviceProfile = z.strictObject({
  name: z.string().min(1),
  /** Share of nodes with this profile (normalised over all profiles). */
  share: z.number().positive(),
  /** Training throughput relative to the reference machine (1 = the machine running the simulation, or the synthetic baseline). */
  speed: z.number().positive(),
  upMbps: z.number().positive(),
  downMbps: z.number().positive(),
  /** Mean online and offline period lengths; offline 0 means always online. */
  meanOnlineSeconds: z.number().positive().default(3600),
  meanOfflineSeconds: z.number().min(0).default(0),
  /** Probability the device crashes during a round it trains in (it rejoins next round). */
  crashPerRound: z.number().min(0).max(1).default(0),
  /** Probability that a round's work runs `stragglerSlowdown` times slower. */
  stragglerProbability: z.number().min(0).max(1).default(0),
  stragglerSlowdown: z.number().min(1).default(4),
});
export type DeviceProfile = z.infer<typeof DeviceProfile>;

/**
 * The default: real desktops and laptops are heterogeneous. A fast minority, a middle
 * majority, and a slow, flaky tail on poor links.
 */
export const DEFAULT_PROFILES: readonly DeviceProfile[] = [
  { name: 'workstation', share: 0.15, speed: 2.5, upMbps: 100, downMbps: 500, meanOnlineSeconds: 36_000, meanOfflineSeconds: 0, crashPerRound: 0.005, stragglerProbability: 0.02, stragglerSlowdown: 3 },
  { name: 'laptop', share: 0.55, speed: 1, upMbps: 20, downMbps: 100, meanOnlineSeconds: 7_200, meanOfflineSeconds: 600, crashPerRound: 0.01, stragglerProbability: 0.05, stragglerSlowdown: 4 },
  { name: 'old-laptop', share: 0.3, speed: 0.35, upMbps: 5, downMbps: 25, meanOnlineSeconds: 3_600, meanOfflineSeconds: 1_800, crashPerRound: 0.03, stragglerProbability: 0.15, stragglerSlowdown: 5 },
];

/** Assigns each node a profile by the profiles' shares, deterministically from the rng. */
export function assignProfiles(nodes: readonly string[], profiles: readonly DeviceProfile[], rng: Rng): Map<string, DeviceProfile> {
  const total = profiles.reduce((a, p) => a + p.share, 0);
  const out = new Map<string, DeviceProfile>();
  for (const node of nodes) {
    let u = rng.float() * total;
    let chosen = profiles[profiles.length - 1]!;
    for (const p of profiles) {
      if (u < p.share) {
        chosen = p;
        break;
      }
      u -= p.share;
    }
    out.set(node, chosen);
  }
  return out;
}
