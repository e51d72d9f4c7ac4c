import { z } from 'zod';
import type { Rng } from '@canopy/core/util';

/** A one-way latency distribution, in milliseconds. */
export const LatencySpec = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('constant'), ms: z.number().min(0) }),
  z.strictObject({ kind: z.literal('normal'), meanMs: z.number().min(0), sdMs: z.number().min(0) }),
  /** Heavy right tail, as real WAN latencies have. */
  z.strictObject({ kind: z.literal('lognormal'), medianMs: z.number().positive(), sigma: z.number().min(0).max(5) }),
]);
export type LatencySpec = z.infer<typeof LatencySpec>;

/** A period during which some nodes can reach no one outside their group. */
export const PartitionSpec = z.strictObject({
  fromSeconds: z.number().min(0),
  toSeconds: z.number().min(0),
  /** Node ids cut off from everyone else (they can still reach each other). */
  isolated: z.array(z.string().min(1)).min(1),
});
export type NetPartitionSpec = z.infer<typeof PartitionSpec>;

/** The modelled network. */
export const NetworkSpec = z.strictObject({
  latency: LatencySpec.default({ kind: 'lognormal', medianMs: 30, sigma: 0.5 }),
  /** Probability that one delivery of a control message is lost. */
  loss: z.number().min(0).max(1).default(0),
  partitions: z.array(PartitionSpec).default([]),
});
export type NetworkSpec = z.infer<typeof NetworkSpec>;

/** A node's link capacity, megabits per second. */
export interface LinkCapacity {
  readonly upMbps: number;
  readonly downMbps: number;
}

/** One node's end of the network: its capacity and when its uplink is next free. */
export interface Endpoint extends LinkCapacity {
  readonly id: string;
  /** Virtual ms at which the uplink has sent everything queued on it. */
  upFreeAt: number;
}

/** An endpoint that has sent nothing yet. */
export function endpoint(id: string, capacity: LinkCapacity): Endpoint {
  return { id, upMbps: capacity.upMbps, downMbps: capacity.downMbps, upFreeAt: 0 };
}

/**
 * Decides when (and whether) bytes sent from one node reach another. Latency is drawn per
 * delivery; transfer time is size ÷ the narrower of the sender's uplink and receiver's
 * downlink; a sender's uplink is serialised, so a host sending a model to many members pays
 * for each copy. Loss applies to control messages, not to blob transfers (which retry).
 *
 * Nodes are given as {@link Endpoint}s, which the caller keeps (the simulator, one per
 * peer): a delivery then reads both ends' capacities and the sender's queue directly, with
 * no lookup by id, and a run makes millions of deliveries.
 */
export class NetworkModel {
  /** Bytes and deliveries counted so far. */
  bytesSent = 0;
  messages = 0;

  constructor(
    private readonly spec: NetworkSpec,
    private readonly rng: Rng,
  ) {}

  /** Whether `a` and `b` can talk at virtual time `nowMs`. */
  reachable(a: string, b: string, nowMs: number): boolean {
    for (const p of this.spec.partitions) {
      if (nowMs < p.fromSeconds * 1000 || nowMs >= p.toSeconds * 1000) continue;
      if (p.isolated.includes(a) !== p.isolated.includes(b)) return false;
    }
    return true;
  }

  /**
   * When a control message of `bytes` sent now from `a` arrives at `b`, or undefined when
   * it is lost or the two are partitioned.
   */
  deliverMessage(a: Endpoint, b: Endpoint, bytes: number, nowMs: number): number | undefined {
    if (!this.reachable(a.id, b.id, nowMs)) return undefined;
    this.messages++;
    this.bytesSent += bytes;
    if (this.spec.loss > 0 && this.rng.float() < this.spec.loss) return undefined;
    return nowMs + this.latency() + this.transferMs(a, b, bytes, nowMs);
  }

  /** When a blob of `bytes` requested now by `b` from `a` has fully arrived, or undefined if partitioned. */
  deliverBlob(a: Endpoint, b: Endpoint, bytes: number, nowMs: number): number | undefined {
    if (!this.reachable(a.id, b.id, nowMs)) return undefined;
    this.bytesSent += bytes;
    // a request travels to a, then the bytes travel back
    return nowMs + this.latency() + this.latency() + this.transferMs(a, b, bytes, nowMs);
  }

  private latency(): number {
    const l = this.spec.latency;
    switch (l.kind) {
      case 'constant':
        return l.ms;
      case 'normal':
        return Math.max(0, l.meanMs + l.sdMs * this.rng.normal());
      case 'lognormal':
        return l.medianMs * Math.exp(l.sigma * this.rng.normal());
    }
  }

  private transferMs(a: Endpoint, b: Endpoint, bytes: number, nowMs: number): number {
    const mbps = Math.min(a.upMbps, b.downMbps);
    const duration = (bytes * 8) / (mbps * 1000); // Mbit/s = 1000 bits per ms
    const start = Math.max(nowMs, a.upFreeAt);
    a.upFreeAt = start + duration;
    return start + duration - nowMs;
  }
}
