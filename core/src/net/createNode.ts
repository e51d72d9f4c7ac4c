import './polyfill.js';
import { createLibp2p, type Libp2p } from 'libp2p';
import { tcp } from '@libp2p/tcp';
import { webSockets } from '@libp2p/websockets';
import { memory } from '@libp2p/memory';
import { noise } from '@libp2p/noise';
import { yamux } from '@libp2p/yamux';
import { identify, type Identify } from '@libp2p/identify';
import { gossipsub, StrictSign, type GossipSub } from '@libp2p/gossipsub';
import { bootstrap } from '@libp2p/bootstrap';
import { mdns } from '@libp2p/mdns';
import type { PrivateKey } from '@libp2p/interface';

/** The libp2p services every Canopy node runs. */
export type CanopyServices = {
  identify: Identify;
  pubsub: GossipSub;
};

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
  return createLibp2p({
    ...(init.privateKey ? { privateKey: init.privateKey } : {}),
    addresses: { listen: [...listen] },
    transports: init.inMemory ? [memory()] : [tcp(), webSockets()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    peerDiscovery: discovery,
    connectionManager: init.loopbackCluster ? { inboundConnectionThreshold: 1000, maxIncomingPendingConnections: 1000 } : {},
    services: {
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
    },
  });
}
