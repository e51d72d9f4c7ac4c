import type { AggregateMessage } from '../messages/index.js';
import { ignore, reject, type Checked, type ValidationContext, type Verdict } from './verdict.js';

/** Rules of `aggregate` beyond the envelope. Returns a verdict, or null to accept. */
export function validateAggregate(msg: AggregateMessage, _checked: Checked, ctx: ValidationContext): Verdict | null {
  // Only workers aggregate: REJECT.
  if (msg.role !== 'worker') return reject('aggregate from a non-worker');
  // Aggregates belong to a round: REJECT round 0.
  if (msg.round === 0) return reject('aggregate without a round');
  const view = ctx.view?.(msg.job);
  // An aggregate older than the previous round: IGNORE (late; consensus is long decided). One
  // round back is still accepted, so that the host can record a late dissenting vote as a fault.
  if (view && msg.round < view.round - 1) return ignore('aggregate of an earlier round');
  // A hash that disagrees is not rejected here: disagreement is the consensus rule's to judge and record.
  return null;
}
