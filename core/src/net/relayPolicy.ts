import type { ConnectionGater, Libp2p, PeerId } from '@libp2p/interface';
import type { CircuitRelayService } from '@libp2p/circuit-relay-v2';
import type { Multiaddr } from '@multiformats/multiaddr';
import { isLoopback, isPrivate } from '@libp2p/utils';

/**
 * Decides which relayed connections a relay carries without the circuit relay v2 default
 * limits (128 KiB and 2 minutes per connection, enough for control messages but not for a
 * model update). Set by the node that owns the relay; consulted each time a peer asks the
 * relay to connect it to a peer holding a reservation.
 */
export interface RelayPolicy {
  /** Whether `src` and `dst` may exchange unlimited data through this relay. */
  unlimited(src: string, dst: string): boolean;
}

/** The limits strangers get (circuit relay v2's defaults). */
export const STRANGER_LIMIT = { data: BigInt(1 << 17), duration: 2 * 60_000 } as const;

/**
 * The connection gater of a Canopy node that may relay. In `auto` mode it grants reservations
 * only once AutoNAT has confirmed a public address (a relay behind NAT helps nobody); in `on`
 * mode (a dedicated relay, named in the network file) always. It picks the limits of each
 * relayed connection from `policy`; strangers keep the defaults.
 */
export function relayGater(node: () => Libp2p | undefined, mode: 'auto' | 'on', policy?: RelayPolicy): ConnectionGater {
  return {
    denyInboundRelayReservation: (_peer: PeerId) => {
      const n = node();
      return n === undefined || (mode === 'auto' && !hasPublicAddress(n.getMultiaddrs()));
    },
    denyOutboundRelayedConnection: (src: PeerId, dst: PeerId) => {
      const relay = (node()?.services as { relay?: CircuitRelayService } | undefined)?.relay;
      const reservation = relay?.reservations.get(dst);
      // The relay reads the limit from the reservation right after asking this gater, for
      // both the STOP message to dst and the byte/time counters of this one connection.
      if (reservation) reservation.limit = policy?.unlimited(src.toString(), dst.toString()) ? undefined : { ...STRANGER_LIMIT };
      return false;
    },
  };
}

/** Whether any of these (verified) addresses is a public IP address, not a relay's. */
export function hasPublicAddress(addrs: readonly Multiaddr[]): boolean {
  return addrs.some((a) => !a.toString().includes('/p2p-circuit') && isPublicIp(a));
}

function isPublicIp(a: Multiaddr): boolean {
  const first = a.getComponents()[0];
  if (!first || (first.name !== 'ip4' && first.name !== 'ip6')) return false;
  return isPrivate(a) !== true && !isLoopback(a);
}
