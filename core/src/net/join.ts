import type { Libp2p } from '@libp2p/interface';
import { multiaddr } from '@multiformats/multiaddr';
import { CanopyError, ErrorCode } from '../util/errors.js';
import type { Log } from '../util/log.js';
import type { Network, Reachability } from './network.js';
import { hasPublicAddress } from './relayPolicy.js';

/** How long joining waits for one bootstrap peer or relay to answer. */
export const JOIN_DIAL_TIMEOUT_MS = 10_000;

/** Not one bootstrap peer or relay of a network answered. */
export class NetworkJoinError extends CanopyError {
  constructor(message: string) {
    super(ErrorCode.Network, message);
  }
}

/**
 * Dials a network's bootstrap peers and relays (all at once, each bounded in time). Each one
 * that does not answer is logged as a warning with what to check; when none answers, rejects
 * with a {@link NetworkJoinError}. Addresses of this node itself are skipped, so the network's
 * first public node can take the same file as everyone else.
 */
export async function joinNetwork(libp2p: Libp2p, n: Network, opts: { log: Log; signal?: AbortSignal; timeoutMs?: number }): Promise<void> {
  const self = libp2p.peerId.toString();
  const targets = [...new Set([...n.bootstrap, ...(n.relays ?? [])])].filter((a) => peerOfAddress(a) !== self);
  if (targets.length === 0) return;
  const timeoutMs = opts.timeoutMs ?? JOIN_DIAL_TIMEOUT_MS;
  const results = await Promise.all(
    targets.map(async (addr) => {
      const signal = opts.signal ? AbortSignal.any([opts.signal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs);
      try {
        await libp2p.dial(multiaddr(addr), { signal });
        return true;
      } catch (err) {
        opts.log.warn({ network: n.name, peer: addr, err: oneLine(err) }, 'cannot reach a peer of the network; check the address, that the peer runs and that its port is open');
        return false;
      }
    }),
  );
  if (!results.some(Boolean)) {
    throw new NetworkJoinError(`could not reach any of the ${targets.length} bootstrap peers and relays of network "${n.name}" within ${timeoutMs / 1000} s; check the network file and that those peers are running`);
  }
}

/**
 * How others can reach this node now: `public` once AutoNAT confirmed a public address,
 * `relayed` while it holds a relay slot instead (a `/p2p-circuit` address), `unreachable` when
 * the caller has given up waiting for either (`gaveUp`), `unknown` before that.
 */
export function reachabilityOf(libp2p: Libp2p, opts: { gaveUp?: boolean } = {}): Reachability {
  const verified = libp2p.getMultiaddrs();
  const addresses = verified.map((a) => a.toString());
  const relays = [...new Set(addresses.filter((a) => a.includes('/p2p-circuit')).map((a) => relayOfAddress(a)).filter((r): r is string => r !== undefined))];
  const status = hasPublicAddress(verified) ? 'public' : relays.length > 0 ? 'relayed' : opts.gaveUp ? 'unreachable' : 'unknown';
  return { status, relays, addresses };
}

/** The peer id at the end of a `/p2p/<id>` address. */
export function peerOfAddress(addr: string): string | undefined {
  return multiaddr(addr).getComponents().findLast((c) => c.name === 'p2p')?.value;
}

// The relay of a circuit address `/…/p2p/<relay>/p2p-circuit/p2p/<me>`.
function relayOfAddress(addr: string): string | undefined {
  const parts = multiaddr(addr).getComponents();
  const circuit = parts.findIndex((c) => c.name === 'p2p-circuit');
  return parts.slice(0, circuit).findLast((c) => c.name === 'p2p')?.value;
}

function oneLine(err: unknown): string {
  return ((err as Error)?.message ?? String(err)).split('\n')[0]!;
}
