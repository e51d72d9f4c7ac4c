import './polyfill.js';
import { createLibp2p, type Libp2p, type ServiceFactoryMap } from 'libp2p';
import { tcp } from '@libp2p/tcp';
import { webSockets } from '@libp2p/websockets';
import { memory } from '@libp2p/memory';
import { noise } from '@libp2p/noise';
import { yamux } from '@libp2p/yamux';
import { identify, identifyPush, type Identify, type IdentifyPush } from '@libp2p/identify';
import { circuitRelayServer, circuitRelayTransport, type CircuitRelayService } from '@libp2p/circuit-relay-v2';
import { autoNATv2 } from '@libp2p/autonat-v2';
import { dcutr } from '@libp2p/dcutr';
import { kadDHT, passthroughMapper, type KadDHT } from '@libp2p/kad-dht';
import { ping, type Ping } from '@libp2p/ping';
import { uPnPNAT } from '@libp2p/upnp-nat';
import { relayGater, type RelayPolicy } from './relayPolicy.js';
import { gossipsub, StrictSign, type GossipSub } from '@libp2p/gossipsub';
import { bootstrap } from '@libp2p/bootstrap';
import { mdns } from '@libp2p/mdns';
import type { PrivateKey } from '@libp2p/interface';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';

/** The libp2p services every Canopy node runs. */
export type CanopyServices = {
  identify: Identify;
  pubsub: GossipSub;
  identifyPush?: IdentifyPush;
  relay?: CircuitRelayService;
  dht?: KadDHT;
  ping?: Ping;
  autoNAT?: unknown;
  dcutr?: unknown;
  upnp?: unknown;
};

/** Canopy's own DHT protocol, so its peer routing never mixes with the public IPFS DHT. */
export const CANOPY_DHT_PROTOCOL = '/canopy/kad/1.0.0';

/** Options for reaching and being reached across NATs (socket nodes only). */
export interface NatInit {
  /** Relay slots to reserve on discovered relays while not publicly reachable (default 2). */
  readonly relaySlots?: number;
  /** Relay for others: `auto` (default) once AutoNAT confirms a public address, `on` always (a dedicated relay), or `off`. */
  readonly relayServer?: 'auto' | 'on' | 'off';
  /** Who gets a relayed connection without the default 128 KiB / 2 min limit. */
  readonly relayPolicy?: RelayPolicy;
  /** Ask the router for a port mapping over UPnP (default on). */
  readonly upnp?: boolean;
}

/**
 * Asks the relay at `relayAddr` (with `/p2p/<relay id>`) for a slot now, as a listen address
 * `<relayAddr>/p2p-circuit` does at start: the node then advertises the circuit addresses the
 * relay gives until the reservation ends. Resolves once it holds the slot; rejects with one
 * line carrying the relay's answer (e.g. `PERMISSION_DENIED`, `RESERVATION_REFUSED`) when it
 * refuses. libp2p otherwise asks a relay only when a connection to it opens.
 */
export async function reserveRelaySlot(node: CanopyLibp2p, relayAddr: string): Promise<void> {
  const tm = (node as unknown as { components: { transportManager: { listen(addrs: Multiaddr[]): Promise<void> } } }).components.transportManager;
  try {
    await tm.listen([multiaddr(`${relayAddr}/p2p-circuit`)]);
  } catch (err) {
    // libp2p's error lists each address with its cause (and the cause's stack) after the first line.
    const cause = (err as Error).message.split('\n').find((l) => l.includes('/p2p-circuit: '));
    throw new Error(cause ? cause.slice(cause.indexOf('/p2p-circuit: ') + 14).replace(/^Error: /, '').trim() : (err as Error).message.split('\n')[0]);
  }
}

/** A started Canopy libp2p node. */
export type CanopyLibp2p = Libp2p<CanopyServices>;

/** Where a node listens unless told otherwise: TCP and WebSockets on 127.0.0.1, free ports. */
export const DEFAULT_LISTEN: readonly string[] = ['/ip4/127.0.0.1/tcp/0', '/ip4/127.0.0.1/tcp/0/ws'];

/** Options of {@link createCanopyNode}; every field has a sensible default. */
export interface CanopyNodeInit {
  readonly privateKey?: PrivateKey;
  /** Multiaddrs to listen on; default TCP and WebSockets on 127.0.0.1 with free ports. */
  readonly listen?: readonly string[];
  /** Multiaddrs (with /p2p/<peer id>) of peers to connect to at start. */
  readonly bootstrap?: readonly string[];
  /** Discover peers on the LAN with mDNS (default off: explicit bootstrap is predictable). */
  readonly mdns?: boolean;
  /** Allow many inbound connections per second from one host (loopback clusters). */
  readonly loopbackCluster?: boolean;
  /** Listen in-process over @libp2p/memory instead of sockets (tests, simulator fidelity mode). */
  readonly inMemory?: boolean;
  /** Extra addresses to advertise (a public IP or DNS name that forwards to this node). */
  readonly announce?: readonly string[];
  /** NAT traversal: relays, AutoNAT v2, DCUtR, UPnP and the DHT; `false` for none (default none). */
  readonly nat?: NatInit | false;
}

/**
 * Creates and starts a libp2p node with Canopy's stack: TCP and WebSockets (so browsers
 * and Electron renderers can connect), Noise, yamux, identify and gossipsub with strict
 * signing. Gossipsub's message cap is 4 MiB and it drops larger messages silently, which is
 * why Canopy sends only blob hashes over gossip.
 */
export async function createCanopyNode(init: CanopyNodeInit = {}): Promise<CanopyLibp2p> {
  const discovery = [];
  if (init.bootstrap && init.bootstrap.length > 0) discovery.push(bootstrap({ list: [...init.bootstrap] }));
  if (init.mdns) discovery.push(mdns());
  const listen = init.listen ?? (init.inMemory ? [`/memory/${crypto.randomUUID()}`] : DEFAULT_LISTEN);
  const nat = init.nat && !init.inMemory ? init.nat : undefined;
  // Each '/p2p-circuit' listen address asks the relay transport for one reservation on a
  // relay it discovers (a connected peer that speaks the hop protocol).
  // A dedicated relay ('on') has a public address by definition and reserves none.
  const circuits = nat ? Array.from({ length: nat.relayServer === 'on' ? 0 : (nat.relaySlots ?? 2) }, () => '/p2p-circuit') : [];
  const state: { node?: CanopyLibp2p } = {};
  return createLibp2p({
    ...(init.privateKey ? { privateKey: init.privateKey } : {}),
    addresses: { listen: [...listen, ...circuits], ...(init.announce && init.announce.length > 0 ? { announce: [...init.announce] } : {}) },
    // Every socket node can dial through a relay (`…/p2p-circuit/p2p/<id>`); only NAT-aware ones reserve slots.
    transports: init.inMemory
      ? [memory()]
      : [tcp(), webSockets(), circuitRelayTransport({ reservationCompletionTimeout: 10_000 })],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    peerDiscovery: discovery,
    connectionManager: init.loopbackCluster ? { inboundConnectionThreshold: 1000, maxIncomingPendingConnections: 1000 } : {},
    ...(nat && nat.relayServer !== 'off' ? { connectionGater: relayGater(() => state.node, nat.relayServer ?? 'auto', nat.relayPolicy) } : {}),
    services: {
      ...(nat ? natServices(nat) : {}),
      identify: identify(),
      pubsub: gossipsub({
        globalSignaturePolicy: StrictSign,
        emitSelf: false,
        // Canopy publishes on a job's topic as soon as the job starts; peers may still be joining.
        allowPublishToZeroTopicPeers: true,
        maxInboundDataLength: 4 * 1024 * 1024,
        // Many peers on one machine share an IP; gossipsub's colocation penalty would
        // graylist them past ~10 processes, so loopback clusters exempt loopback addresses.
        ...(init.loopbackCluster ? { scoreParams: { IPColocationFactorWhitelist: new Set(['127.0.0.1', '::1']) } } : {}),
      }),
      // The optional services' factories want components (ping, the relay transport) that
      // libp2p provides whenever natServices adds them; the map's type cannot say so.
    } as ServiceFactoryMap<CanopyServices>,
  }).then((node) => {
    state.node = node as CanopyLibp2p;
    return node as CanopyLibp2p;
  });
}

// The services that let a node behind NAT be reached: identify/push (peers learn its relay
// addresses as soon as it has them), AutoNAT v2 (which of its addresses others can dial),
// circuit relay v2 (server side gated by relayGater), DCUtR (hole punching over a relayed
// connection), UPnP, and a DHT under Canopy's own protocol for finding peers by id alone.
function natServices(nat: NatInit) {
  return {
    identifyPush: identifyPush(),
    ping: ping(),
    autoNAT: autoNATv2({ startupDelay: 1000 }),
    dcutr: dcutr(),
    // Server mode from the start, so peers on one LAN (private addresses only) find each other;
    // CanopyNode switches to client mode while the node is reachable only through relays.
    // (kad-dht's own automatic mode would keep every node of a LAN in client mode.)
    dht: kadDHT({ protocol: CANOPY_DHT_PROTOCOL, peerInfoMapper: passthroughMapper, allowQueryWithZeroPeers: false, clientMode: false }),
    ...(nat.relayServer !== 'off' ? { relay: circuitRelayServer({ reservations: { maxReservations: 128 } }) } : {}),
    ...(nat.upnp !== false ? { upnp: uPnPNAT({ autoConfirmAddress: false }) } : {}),
  };
}
