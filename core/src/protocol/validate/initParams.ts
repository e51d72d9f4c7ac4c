import type { InitParamsMessage } from '../messages/index.js';
import { reject, type Checked, type Verdict } from './verdict.js';

/** Rules of `init-params` beyond the envelope. Returns a verdict, or null to accept. */
export function validateInitParams(msg: InitParamsMessage, { tree }: Checked): Verdict | null {
  // Only the root asks for initial parameters (step 5): REJECT elsewhere.
  if (msg.job !== tree.root) return reject('init-params outside the root job');
  // Asked of workers, then clients: REJECT other roles.
  if (msg.role !== 'worker' && msg.role !== 'client') return reject('init-params from a host or distributor');
  // Initial parameters precede round 1: REJECT a round number.
  if (msg.round !== 0) return reject('init-params with a round');
  // Whether this member was the one asked is the host's business: an unasked answer is dropped there.
  return null;
}
