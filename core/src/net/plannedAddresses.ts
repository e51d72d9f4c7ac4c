import { networkInterfaces } from 'node:os';
import { multiaddr } from '@multiformats/multiaddr';
import { isLinkLocalIp } from '@libp2p/utils';
import { BadInputError } from '../util/errors.js';

/** An address a node would listen on or advertise, worked out before it starts. */
export interface PlannedAddress {
  /** The multiaddr, without `/p2p/<peer id>`. */
  readonly address: string;
  /** `listen`: from a listen address (a wildcard gives one per interface); `announce`: given to announce as is. */
  readonly from: 'listen' | 'announce';
  /** The port is 0: the node picks a free one when it starts, so this address is not known yet. */
  readonly portAtStart: boolean;
  /** Loopback: reachable from this machine only. */
  readonly loopback: boolean;
}

/**
 * The addresses a node with these listen/announce addresses would advertise, worked out
 * without starting it: a wildcard listen address (`0.0.0.0`, `::`) becomes one address per
 * network interface, as libp2p expands it when it listens. Throws a one-line BadInputError
 * for an address that is not a multiaddr.
 */
export function plannedAddresses(listen: readonly string[], announce: readonly string[] = []): PlannedAddress[] {
  const out: PlannedAddress[] = [];
  const seen = new Set<string>();
  const add = (address: string, from: PlannedAddress['from']) => {
    if (seen.has(address)) return;
    seen.add(address);
    out.push({ address, from, portAtStart: /\/(tcp|udp)\/0(\/|$)/.test(address), loopback: /^\/ip4\/127\.|^\/ip6\/::1\//.test(address) });
  };
  for (const l of listen) {
    const parsed = parse(l, '--listen').toString();
    // A wildcard becomes one address per interface of its family, the rest (/tcp/…/ws) kept.
    const wildcard = /^\/(ip4)\/0\.0\.0\.0(\/.*)?$/.exec(parsed) ?? /^\/(ip6)\/::(\/.*)?$/.exec(parsed);
    if (!wildcard) add(parsed, 'listen');
    else for (const host of interfaceAddresses(wildcard[1] === 'ip4' ? 'IPv4' : 'IPv6')) add(`/${wildcard[1]}/${host}${wildcard[2] ?? ''}`, 'listen');
  }
  for (const a of announce) add(parse(a, '--announce').toString(), 'announce');
  return out;
}

// This machine's addresses of one family, as libp2p's listeners expand a wildcard
// (@libp2p/utils getThinWaistAddresses): every interface, link-local addresses left out.
function interfaceAddresses(family: 'IPv4' | 'IPv6'): string[] {
  return Object.values(networkInterfaces())
    .flatMap((list) => list ?? [])
    .filter((a) => a.family === family && !isLinkLocalIp(a.address))
    .map((a) => a.address);
}

function parse(addr: string, flag: string) {
  try {
    return multiaddr(addr);
  } catch {
    throw new BadInputError(`${flag} ${addr} is not a multiaddr (expected e.g. /ip4/0.0.0.0/tcp/4001)`);
  }
}
