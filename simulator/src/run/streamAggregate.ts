// Imported by the aggregation thread too: take core's aggregator from its own module, not
// from `@canopy/core/ml`, whose index also loads tfjs.
import { createAggregator } from '@canopy/core/ml';
import type { AggregationResult, AggregatorContext, AggregatorSpec } from '@canopy/core/ml';

/** One input of an aggregation: who sent it and its weight (the samples underneath). */
export interface StreamEntry {
  readonly client: string;
  readonly samples: number;
}

/**
 * Aggregation as workers do it (protocol step 7): the inputs blob's entries, in its order
 * (sorted by client id), each written by `fill` straight into aggregator memory and added
 * with its samples as weight onto `ctx.global`, the base. The one definition of this loop, run by the main thread and by
 * the aggregation threads alike, so both give the same bits.
 */
export function streamAggregate<E extends StreamEntry>(spec: AggregatorSpec, ctx: AggregatorContext, entries: readonly E[], fill: (entry: E, slot: Float32Array) => void): AggregationResult {
  const agg = createAggregator(spec, ctx);
  for (const entry of entries) {
    const slot = agg.allocate();
    fill(entry, slot);
    agg.add({ memberId: entry.client, params: slot, weight: entry.samples });
  }
  return agg.finish();
}
