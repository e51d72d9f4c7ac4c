import { afterEach, describe, expect, it } from 'vitest';
import { multiaddr } from '@multiformats/multiaddr';
import { createCanopyNode, reserveRelaySlot, type CanopyLibp2p, type NatInit } from './createNode.js';
import { STRANGER_LIMIT } from './relayPolicy.js';

// Real libp2p nodes on 127.0.0.1 with Canopy's NAT services (UPnP off: no multicast leaves the machine).
describe('circuit relay v2 in Canopy nodes', () => {
  const nodes: CanopyLibp2p[] = [];
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.stop()));
  });
  async function node(nat: NatInit): Promise<CanopyLibp2p> {
    const n = await createCanopyNode({ listen: ['/ip4/127.0.0.1/tcp/0'], nat: { upnp: false, relaySlots: 0, ...nat } });
    nodes.push(n);
    return n;
  }
  const circuitOf = (relay: CanopyLibp2p, peer: CanopyLibp2p) => multiaddr(`${relay.getMultiaddrs()[0]!.toString()}/p2p-circuit/p2p/${peer.peerId.toString()}`);

  it('a dedicated relay gives a slot; strangers get the default limits, a pair its policy allows none', async () => {
    const allowed = new Set<string>();
    const relay = await node({ relayServer: 'on', relayPolicy: { unlimited: (src, dst) => allowed.has(src) && allowed.has(dst) } });
    const home = await node({ relayServer: 'off' });
    await home.dial(relay.getMultiaddrs()[0]!);
    await reserveRelaySlot(home, relay.getMultiaddrs()[0]!.toString());
    expect(home.getMultiaddrs().some((a) => a.toString().includes('/p2p-circuit')), 'the slot shows as a circuit address').toBe(true);

    const stranger = await node({ relayServer: 'off' });
    const limited = await stranger.dial(circuitOf(relay, home));
    // The bytes left of circuit relay v2's 128 KiB once the connection is set up (identify has run over it).
    expect(limited.limits?.bytes, 'a stranger is limited').toBeGreaterThan(0n);
    expect(limited.limits!.bytes!).toBeLessThanOrEqual(STRANGER_LIMIT.data);
    await limited.close();

    const member = await node({ relayServer: 'off' });
    allowed.add(member.peerId.toString()).add(home.peerId.toString());
    const open = await member.dial(circuitOf(relay, home));
    expect(open.remoteAddr.toString()).toContain('/p2p-circuit');
    expect(open.limits, 'members of a job the relay knows are not limited').toBeUndefined();
  });

  it('a relay that is not publicly reachable refuses slots, and the refusal names its status', async () => {
    const relay = await node({ relayServer: 'auto' });
    const home = await node({ relayServer: 'off' });
    await home.dial(relay.getMultiaddrs()[0]!);
    const err = await reserveRelaySlot(home, relay.getMultiaddrs()[0]!.toString()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/PERMISSION_DENIED/);
    expect((err as Error).message.includes('\n'), 'one line').toBe(false);
    expect(home.getMultiaddrs().some((a) => a.toString().includes('/p2p-circuit'))).toBe(false);
  });
});
