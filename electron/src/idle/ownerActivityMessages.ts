import { z } from 'zod';

// The messages about the owner's activity between the node's utility process and main. Only
// main can read how long the system has been idle (Electron's powerMonitor); the node host
// owns the "only while idle" setting, so it tells main when to watch, and main reports back.

/** The node host asks main to watch the owner's activity (the limit is on) or to stop (it is off). */
export const IdleWatchRequest = z.strictObject({ t: z.literal('idle:watch'), on: z.boolean() });
export type IdleWatchRequest = z.infer<typeof IdleWatchRequest>;

/** Main tells the node host whether the owner is using the computer; sent on each change while watching. */
export const OwnerActivity = z.strictObject({ t: z.literal('owner:activity'), active: z.boolean() });
export type OwnerActivity = z.infer<typeof OwnerActivity>;

/** Electron wraps a utility process's messages as `{ data }`; this takes the bare message too. */
export function unwrapMessage(raw: unknown): unknown {
  return raw !== null && typeof raw === 'object' && 'data' in raw ? (raw as { data: unknown }).data : raw;
}
