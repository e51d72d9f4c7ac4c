import { describe, expect, it } from 'vitest';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppApi } from './appApi.js';
import { loadAppSettings, saveAppSettings } from './appSettings.js';
import { createTestNodePort } from './testNodePort.js';
import { encodeInviteLink, type Network } from '../../net/network.js';
import { NetworkJoinError } from '../../net/join.js';

// Joining a network from the app: the text is parsed on the node side, the node dials, and
// only a network it reached is kept (and saved for the next start).

const RELAY = '/ip4/203.0.113.9/tcp/4001/p2p/12D3KooWHGE6SQ259JjaVc6wjqNLJdGgjqQnQ9rZVpaUVTYvz4jy';
const lab: Network = { name: 'lab', bootstrap: [RELAY], relays: [RELAY] };

async function setup(joinOutcome: (n: Network) => Promise<void> = async () => undefined) {
  const port = await createTestNodePort();
  const joined: Network[] = [];
  const dir = await mkdtemp(join(tmpdir(), 'canopy-networks-'));
  port.joinNetwork = async (n) => {
    await joinOutcome(n);
    joined.push(n);
  };
  port.reachability = () => ({ status: 'relayed', relays: ['12D3KooWHGE6SQ259JjaVc6wjqNLJdGgjqQnQ9rZVpaUVTYvz4jy'], addresses: [] });
  const api = new AppApi(port, { saveSettings: (s) => saveAppSettings(dir, s) });
  return { api, joined, dir };
}

describe('AppApi.joinNetwork', () => {
  it.each([
    ['an invite link', encodeInviteLink(lab)],
    ['a YAML network file', `name: lab\nbootstrap: [${RELAY}]\nrelays: [${RELAY}]\n`],
  ])('joins %s, reports it with the reachability, and keeps it for the next start', async (_what, text) => {
    const { api, joined, dir } = await setup();
    const info = await api.joinNetwork({ text });
    expect(joined).toEqual([lab]);
    expect(info.networks).toEqual([lab]);
    expect(info.reachability?.status).toBe('relayed');
    expect((await loadAppSettings(dir)).networks).toEqual([lab]);
    // Joining it again replaces the kept one instead of listing it twice.
    expect((await api.joinNetwork({ text })).networks).toEqual([lab]);
  });

  it.each([
    ['text that is not a network', 'hello', /^the pasted network is not a valid network: /],
    ['a damaged invite link', 'canopy://network/%%%', /invite link is damaged/],
    ['a link of another scheme', 'https://example.org/net', /is not a Canopy invite link/],
  ])('refuses %s with one line, dialling nothing and keeping nothing', async (_what, text, message) => {
    const { api, joined, dir } = await setup();
    await expect(api.joinNetwork({ text })).rejects.toThrow(message);
    expect(joined).toEqual([]);
    expect((await api.getSnapshot()).node.networks).toEqual([]);
    expect((await loadAppSettings(dir)).networks).toBeUndefined();
  });

  it('keeps nothing when no peer of the network answers', async () => {
    const { api } = await setup(async (n) => {
      throw new NetworkJoinError(`could not reach any of the 1 bootstrap peers and relays of network "${n.name}"`);
    });
    await expect(api.joinNetwork({ text: encodeInviteLink(lab) })).rejects.toThrow(/could not reach any of the 1 bootstrap peers/);
    expect((await api.getSnapshot()).node.networks).toEqual([]);
  });
});
