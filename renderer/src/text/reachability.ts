import type { NodeInfo } from '../api/types';
import { shortId } from './format';

/** How the Node screen puts the node's reachability into words. */
export interface ReachabilityWords {
  readonly tone: 'green' | 'blue' | 'amber' | 'gray';
  /** One line: "Reachable", "Behind NAT, reachable through relay 12D3Ko…x7Yp", "Not reachable yet". */
  readonly title: string;
  /** What it means for the owner, and what to do if anything. */
  readonly detail: string;
}

/** Puts a node's reachability into words; a node that does not report it says so. */
export function describeReachability(node: Pick<NodeInfo, 'reachability' | 'networks'>): ReachabilityWords {
  const r = node.reachability;
  const joined = (node.networks ?? []).length > 0;
  if (!r) return { tone: 'gray', title: 'Not reachable yet', detail: 'This node does not report its reachability.' };
  switch (r.status) {
    case 'public':
      return { tone: 'green', title: 'Reachable', detail: 'Other peers can connect to this computer directly.' };
    case 'relayed': {
      const relays = r.relays.map((id) => shortId(id, 6));
      const through = relays.length > 1 ? `relays ${relays.join(', ')}` : `relay ${relays[0] ?? '(unnamed)'}`;
      return {
        tone: 'blue',
        title: `Behind NAT, reachable through ${through}`,
        detail: 'Peers reach this computer through the relay, which forwards their traffic; when they connect, a direct connection is tried too.',
      };
    }
    case 'unreachable':
      return {
        tone: 'amber',
        title: 'Not reachable yet',
        detail: joined
          ? 'No peer can connect to this computer: it is behind NAT and holds no relay slot yet. The network\'s relays may be down or full.'
          : 'No peer can connect to this computer: it is behind NAT. Join a network that has a relay (below).',
      };
    default:
      return {
        tone: 'gray',
        title: 'Not reachable yet',
        detail: joined ? 'Still finding out whether peers can connect to this computer.' : 'Join a network (below) so that peers can find and reach this computer.',
      };
  }
}
