// @vitest-environment jsdom
import { afterEach, describe, expect, it } from 'vitest';
import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import { parseDocument } from 'yaml';
import { App } from '../App';
import { StoreProvider } from '../store/StoreContext';
import { createAppStore } from '../store/appStore';
import { bindApi } from '../store/bindApi';
import { createRecordingApi, sampleSnapshot } from '../testApi';
import type { NodeInfo, Snapshot } from '../api/types';

// The Node screen's network part: reachability in words, the peers: entry for a job's
// organiser, and joining a network, over a recording API (the UI test drives a real node).

afterEach(cleanup);

const RELAY = '12D3KooWRelayRelayRelayRelayRelayRelayRelayRelayR1';

async function renderNode(node: Partial<NodeInfo>, answers: Parameters<typeof createRecordingApi>[1] = {}) {
  const snap: Snapshot = { ...sampleSnapshot(), consents: [], node: { ...sampleSnapshot().node, ...node } };
  const rec = createRecordingApi(snap, answers);
  const store = createAppStore();
  await bindApi(store, rec.api, 1);
  render(
    <StoreProvider store={store}>
      <App />
    </StoreProvider>,
  );
  return rec;
}

describe('Node screen: reachability', () => {
  it.each<[string, NodeInfo['reachability'], RegExp]>([
    ['public', { status: 'public', relays: [], addresses: ['/ip4/203.0.113.7/tcp/4001/p2p/12D3KooWNodeA'] }, /^Reachable$/],
    ['relayed', { status: 'relayed', relays: [RELAY], addresses: [] }, /^Behind NAT, reachable through relay 12D3Ko…elayR1$/],
    ['unreachable', { status: 'unreachable', relays: [], addresses: [] }, /^Not reachable yet$/],
    ['unknown', { status: 'unknown', relays: [], addresses: [] }, /^Not reachable yet$/],
  ])('says %s in words', async (_status, reachability, words) => {
    await renderNode({ reachability });
    expect(screen.getByTestId('reachability').textContent).toMatch(words);
  });
});

describe('Node screen: what to send to a job organiser', () => {
  it('shows a peers: entry with the dialable addresses, under the name the owner types', async () => {
    const reachability = { status: 'relayed' as const, relays: [RELAY], addresses: ['/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWNodeA', `/ip4/203.0.113.9/tcp/4001/p2p/${RELAY}/p2p-circuit/p2p/12D3KooWNodeA`] };
    await renderNode({ reachability });
    fireEvent.change(screen.getByLabelText('Your name in the job'), { target: { value: 'alice clinic' } });
    const doc = parseDocument(screen.getByTestId('peers-entry').textContent!).toJS() as { peers: Record<string, unknown> };
    expect(doc.peers).toEqual({ aliceclinic: { peerId: '12D3KooWNodeA', addresses: [reachability.addresses[1]] } });
  });
});

describe('Node screen: joining a network', () => {
  it('sends the pasted text and lists the network joined', async () => {
    const network = { name: 'lab', bootstrap: [`/ip4/203.0.113.9/tcp/4001/p2p/${RELAY}`], relays: [`/ip4/203.0.113.9/tcp/4001/p2p/${RELAY}`] };
    const { calls } = await renderNode({}, { joinNetwork: () => ({ ...sampleSnapshot().node, networks: [network] }) });
    fireEvent.change(screen.getByLabelText('Network file or invite link'), { target: { value: 'canopy://network/abc' } });
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Join network' })));
    expect(calls).toEqual([{ method: 'joinNetwork', arg: { text: 'canopy://network/abc' } }]);
    expect(screen.getByTestId('join-done').textContent).toContain('Joined lab.');
    expect(screen.getByTestId('networks').textContent).toContain('lab');
  });

  it('shows the node’s one-line reason when the text is not a network, and keeps the text', async () => {
    await renderNode({}, { joinNetwork: () => { throw new Error('BAD_INPUT: the pasted network is not a valid network: bootstrap: expected array'); } });
    fireEvent.change(screen.getByLabelText('Network file or invite link'), { target: { value: 'name: x' } });
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Join network' })));
    expect(screen.getByTestId('join-error').textContent).toBe('the pasted network is not a valid network: bootstrap: expected array');
    expect((screen.getByLabelText('Network file or invite link') as HTMLTextAreaElement).value).toBe('name: x');
  });
});
