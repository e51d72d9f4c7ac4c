import type { SubmitMessage } from '../messages/index.js';
import { ignore, reject, type Checked, type ValidationContext, type Verdict } from './verdict.js';

/** Rules of `submit` beyond the envelope. Returns a verdict, or null to accept. */
export function validateSubmit(msg: SubmitMessage, _checked: Checked, ctx: ValidationContext): Verdict | null {
  // Only clients (and sub-jobs as clients) submit: REJECT.
  if (msg.role !== 'client') return reject('submit from a non-client');
  // Submissions belong to a round: REJECT round 0.
  if (msg.round === 0) return reject('submit without a round');
  // Evaluation on no samples cannot weigh anything: REJECT a claim of accuracy on nothing.
  if (msg.payload.eval.samples === 0 && msg.payload.eval.accuracy > 0) return reject('accuracy on zero samples');
  const view = ctx.view?.(msg.job);
  // A submission for a round we have left: IGNORE (a straggler; it may join the next round).
  if (view && msg.round < view.round) return ignore('submit of an earlier round');
  return null;
}
