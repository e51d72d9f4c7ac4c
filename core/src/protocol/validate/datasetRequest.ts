import type { DatasetRequestMessage } from '../messages/index.js';
import { reject, type Checked, type Verdict } from './verdict.js';

/** Rules of `dataset-request` beyond the envelope. Returns a verdict, or null to accept. */
export function validateDatasetRequest(msg: DatasetRequestMessage, { tree, node }: Checked): Verdict | null {
  // Only leaf clients fetch data: REJECT other roles.
  if (msg.role !== 'client' || !node.leaf) return reject('dataset request from a non-client');
  // Without a distributor there is nobody to ask: REJECT (a misconfigured peer).
  if (tree.distributor === undefined) return reject('dataset request in a job without distributor');
  // Repeats are rate-limited by the distributor, not rejected: a lost offer must be recoverable.
  return null;
}
