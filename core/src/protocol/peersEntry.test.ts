import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { PeerSpec } from './manifest.js';
import { formatPeersEntry, isDialableElsewhere } from './peersEntry.js';

const ID = '12D3KooWGzaFNqJtgYabVmWZW1K1CQnX4fV2YCPbZsV1Dnj3oE3Q';

describe('isDialableElsewhere', () => {
  const cases: [address: string, dialable: boolean][] = [
    ['/ip4/192.168.1.20/tcp/4001', true],
    ['/ip4/203.0.113.7/tcp/4001/ws', true],
    ['/ip6/2001:db8::1/tcp/4001', true],
    ['/dns4/relay.example.org/tcp/4001/p2p/' + ID, true],
    ['/ip4/203.0.113.7/tcp/4001/p2p/' + ID + '/p2p-circuit/p2p/' + ID, true],
    ['/ip4/127.0.0.1/tcp/4001', false],
    ['/ip6/::1/tcp/4001', false],
    ['/ip4/0.0.0.0/tcp/4001', false],
    ['/ip4/192.168.1.20/tcp/0', false],
    ['/ip4/192.168.1.20/tcp/0/ws', false],
    ['/ip4/192.168.1.20/tcp/40', true],
  ];
  for (const [address, dialable] of cases) it(`${address} → ${dialable}`, () => expect(isDialableElsewhere(address)).toBe(dialable));
});

describe('formatPeersEntry', () => {
  it('lists the dialable addresses, each with /p2p/<peer id>, once', () => {
    const text = formatPeersEntry('alice', ID, ['/ip4/127.0.0.1/tcp/4001', '/ip4/192.168.1.20/tcp/4001', `/ip4/192.168.1.20/tcp/4001/p2p/${ID}`, '/ip4/192.168.1.20/tcp/4002/ws']);
    expect(text).toBe(['peers:', '  alice:', `    peerId: ${ID}`, '    addresses:', `      - /ip4/192.168.1.20/tcp/4001/p2p/${ID}`, `      - /ip4/192.168.1.20/tcp/4002/ws/p2p/${ID}`, ''].join('\n'));
  });

  it('gives the peer id alone when no address is dialable from elsewhere', () => {
    expect(formatPeersEntry('bob', ID, ['/ip4/127.0.0.1/tcp/0'])).toBe(`peers:\n  bob:\n    peerId: ${ID}\n`);
  });

  // Whatever the name, the text is YAML that a manifest's peers: accepts as that name's entry.
  const names = ['alice', 'east-c0', 'node.1', 'yes', 'null', '1234', 'a:b', 'x@lab'];
  for (const name of names) {
    it(`reads back as a valid peers entry named ${JSON.stringify(name)}`, () => {
      const doc = parseDocument(formatPeersEntry(name, ID, ['/ip4/10.0.0.5/tcp/4001'])).toJS() as { peers: Record<string, unknown> };
      expect(Object.keys(doc.peers)).toEqual([name]);
      expect(PeerSpec.parse(doc.peers[name])).toEqual({ peerId: ID, addresses: [`/ip4/10.0.0.5/tcp/4001/p2p/${ID}`] });
    });
  }
});
