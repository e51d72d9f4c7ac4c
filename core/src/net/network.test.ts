import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { createCanopyNode, type CanopyLibp2p } from './createNode.js';
import { encodeInviteLink, INVITE_PREFIX, NetworkFileError, parseNetwork, type Network } from './network.js';
import { joinNetwork, NetworkJoinError, reachabilityOf } from './join.js';
import { createLog } from '../util/log.js';

const ID_A = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString();
const ID_B = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString();
const BOOT = `/ip4/198.51.100.7/tcp/4001/p2p/${ID_A}`;
const RELAY = `/dns4/relay.example.org/tcp/4002/ws/p2p/${ID_B}`;

describe('parseNetwork', () => {
  const good: Network = { name: 'lab', bootstrap: [BOOT], relays: [RELAY] };

  it.each([
    ['YAML', `name: lab\nbootstrap:\n  - ${BOOT}\nrelays:\n  - ${RELAY}\n`],
    ['JSON', JSON.stringify(good)],
    ['an invite link', encodeInviteLink(good)],
    ['an invite link with surrounding blanks', `  ${encodeInviteLink(good)}\n`],
  ])('reads %s', (_kind, text) => {
    expect(parseNetwork(text)).toEqual(good);
  });

  it.each([
    ['empty text', '', /is empty/],
    ['YAML that does not parse', 'name: [lab', /does not parse/],
    ['a list instead of a map', `- ${BOOT}`, /\(top level\)/],
    ['no bootstrap', 'name: lab', /bootstrap/],
    ['an empty bootstrap list', 'name: lab\nbootstrap: []', /bootstrap/],
    ['an address that is not a multiaddr', 'name: lab\nbootstrap: [not-an-address]', /bootstrap\.0: "not-an-address" is not a multiaddr/],
    ['an address without /p2p', 'name: lab\nbootstrap: [/ip4/198.51.100.7/tcp/4001]', /lacks \/p2p\/<peer id>/],
    ['a bad peer id', 'name: lab\nbootstrap: [/ip4/198.51.100.7/tcp/4001/p2p/QmNotAPeer]', /not a multiaddr|not a peer id/],
    ['an unknown field', `name: lab\nbootstrap: [${BOOT}]\nrelay: [${RELAY}]`, /relay/],
    ['another link scheme', 'https://example.org/network', /not a Canopy invite link/],
    ['a damaged invite link', `${INVITE_PREFIX}%%%`, /damaged/],
    ['an invite link that is not JSON', `${INVITE_PREFIX}${Buffer.from('nope').toString('base64url')}`, /damaged/],
  ])('rejects %s with one line', (kind, text, pattern) => {
    let caught: unknown;
    try {
      parseNetwork(text, 'net.yaml');
    } catch (err) {
      caught = err;
    }
    expect(caught, kind).toBeInstanceOf(NetworkFileError);
    const message = (caught as Error).message;
    expect(message, kind).toMatch(pattern);
    expect(message.includes('\n'), `${kind}: one line`).toBe(false);
    expect((caught as NetworkFileError).code, kind).toBe('BAD_INPUT');
  });

  it('an invite link round-trips any valid network', () => {
    const addr = fc.constantFrom(BOOT, RELAY, `/ip6/2001:db8::1/tcp/9/p2p/${ID_B}`);
    fc.assert(
      fc.property(fc.record({ name: fc.string({ minLength: 1, maxLength: 40 }), bootstrap: fc.array(addr, { minLength: 1, maxLength: 4 }), relays: fc.option(fc.array(addr, { maxLength: 3 }), { nil: undefined }) }), (n) => {
        const net: Network = n.relays === undefined ? { name: n.name, bootstrap: n.bootstrap } : { name: n.name, bootstrap: n.bootstrap, relays: n.relays };
        const link = encodeInviteLink(net);
        expect(link.startsWith(INVITE_PREFIX)).toBe(true);
        expect(parseNetwork(link)).toEqual(net);
      }),
      { seed: 13, numRuns: 200 },
    );
  });
});

// Real libp2p nodes on 127.0.0.1.
describe('joinNetwork', () => {
  const nodes: CanopyLibp2p[] = [];
  const log = createLog('test', 'silent');
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.stop()));
  });
  async function node(): Promise<CanopyLibp2p> {
    const n = await createCanopyNode({ listen: ['/ip4/127.0.0.1/tcp/0'] });
    nodes.push(n);
    return n;
  }

  it('connects to the bootstrap peers that answer and warns about the others', async () => {
    const [boot, joiner] = [await node(), await node()];
    const dead = `/ip4/127.0.0.1/tcp/9/p2p/${ID_A}`;
    const warnings: string[] = [];
    const recording = createLog('test', 'warn');
    recording.warn = ((obj: { peer: string }) => warnings.push(obj.peer)) as typeof recording.warn;
    await joinNetwork(joiner, { name: 'lab', bootstrap: [boot.getMultiaddrs()[0]!.toString(), dead] }, { log: recording, timeoutMs: 3000 });
    expect(joiner.getConnections(boot.peerId).length).toBeGreaterThan(0);
    expect(warnings).toEqual([dead]);
  });

  it('rejects with one line, in bounded time, when no peer of the network answers', async () => {
    const joiner = await node();
    const started = Date.now();
    const err = await joinNetwork(joiner, { name: 'lab', bootstrap: [`/ip4/127.0.0.1/tcp/9/p2p/${ID_A}`] }, { log, timeoutMs: 2000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkJoinError);
    expect((err as Error).message).toMatch(/could not reach any of the 1 bootstrap peers and relays of network "lab"/);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('skips its own address, so the first node of a network can take the shared file', async () => {
    const first = await node();
    await expect(joinNetwork(first, { name: 'lab', bootstrap: [first.getMultiaddrs()[0]!.toString()] }, { log, timeoutMs: 1000 })).resolves.toBeUndefined();
  });

  it('reports an unknown reachability and its addresses before AutoNAT or a relay', async () => {
    const n = await node();
    const r = reachabilityOf(n);
    expect(r.status).toBe('unknown');
    expect(r.relays).toEqual([]);
    expect(r.addresses).toEqual(n.getMultiaddrs().map((a) => a.toString()));
  });
});
