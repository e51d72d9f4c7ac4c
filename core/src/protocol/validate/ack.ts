import type { AckMessage } from '../messages/index.js';
import { reject, type Checked, type Verdict } from './verdict.js';

/** Rules of an `ack` beyond the envelope. Returns a verdict, or null to accept. */
export function validateAck(msg: AckMessage, _checked: Checked): Verdict | null {
  // Only clients and workers ACK (a sub-job ACKs as a client): REJECT.
  if (msg.role !== 'client' && msg.role !== 'worker') return reject('ack from a host or distributor');
  // Only a dataset ACK may carry a refusal: REJECT (incoherent).
  if (msg.payload.refused && msg.payload.stage !== 2) return reject('refusal on a job-sheet ack');
  // Duplicates are harmless (an ACK only raises a level), so they are accepted and absorbed.
  return null;
}
