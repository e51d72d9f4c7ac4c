import type { DatasetOfferMessage } from '../messages/index.js';
import { reject, type Checked, type Verdict } from './verdict.js';

/** Rules of `dataset-offer` beyond the envelope. Returns a verdict, or null to accept. */
export function validateDatasetOffer(msg: DatasetOfferMessage, { tree, node }: Checked): Verdict | null {
  // Only the manifest's distributor offers data (the envelope checked who it is): REJECT others.
  if (msg.role !== 'distributor') return reject('dataset offer from a non-distributor');
  if ('error' in msg.payload) {
    // A failed preparation is the root's to act on, since it ends the whole job: REJECT elsewhere.
    if (msg.job !== tree.root) return reject('dataset failure to a job other than the root');
    return null;
  }
  // Offers go to leaf jobs, where the clients are: REJECT elsewhere.
  if (!node.leaf) return reject('dataset offer to an inner job');
  // The offer must cover this job's clients: REJECT a count that does not match.
  if (msg.payload.clients !== node.clients.length) return reject('dataset offer for another client count');
  return null;
}
