import type { HeartbeatMessage } from '../messages/index.js';
import { reject, type Checked, type Verdict } from './verdict.js';

/** Rules of a `heartbeat` beyond the envelope. Returns a verdict, or null to accept. */
export function validateHeartbeat(msg: HeartbeatMessage, _checked: Checked): Verdict | null {
  // Only clients and workers report to a host: REJECT.
  if (msg.role !== 'client' && msg.role !== 'worker') return reject('heartbeat from a host or distributor');
  // A status below the ACK level it claims is incoherent: REJECT.
  if (msg.payload.status < msg.payload.acked) return reject('status below acked level');
  // §6.14: only a worker holds a noise key: REJECT.
  if (msg.payload.noiseKey !== undefined && msg.role !== 'worker') return reject('noise key from a member that is not a worker');
  return null;
}
