// @vitest-environment jsdom
import { afterEach, describe, expect, it } from 'vitest';
import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import { App } from '../App';
import { StoreProvider } from '../store/StoreContext';
import { createAppStore } from '../store/appStore';
import { bindApi } from '../store/bindApi';
import { createRecordingApi, sampleSnapshot } from '../testApi';
import type { Receipt, Snapshot } from '../api/types';

afterEach(cleanup);

async function renderApp(snap: Snapshot = sampleSnapshot(), answers: Parameters<typeof createRecordingApi>[1] = {}) {
  const rec = createRecordingApi(snap, answers);
  const store = createAppStore();
  await bindApi(store, rec.api, 1);
  render(
    <StoreProvider store={store}>
      <App />
    </StoreProvider>,
  );
  return { ...rec, store };
}

describe('consent dialog', () => {
  it('shows name, size, sha256, distributor and purpose before any download', async () => {
    await renderApp();
    const dialog = screen.getByRole('dialog');
    expect(dialog.textContent).toContain('mnist');
    expect(dialog.textContent).toContain('1.25 MB');
    expect(screen.getByTestId('consent-hash').textContent).toBe('ab'.repeat(32));
    expect(dialog.textContent).toContain('12D3KooWDi');
    expect(dialog.textContent).toContain('train model mlp in job mnist#0');
  });

  it.each([
    ['Approve download', true],
    ['Decline', false],
  ])('“%s” sends the decision for that request', async (button, approve) => {
    const snap = sampleSnapshot();
    const receipt: Receipt = { id: 'rc-1', seq: 1, at: '2026-01-01T10:00:02.000Z', request: snap.consents[0]!.request, decision: approve ? 'approved' : 'refused', by: 'owner', reason: '' };
    const { calls } = await renderApp(snap, { decideConsent: () => receipt });
    await act(async () => fireEvent.click(screen.getByRole('button', { name: button })));
    expect(calls).toEqual([{ method: 'decideConsent', arg: { id: 'ask-1', approve } }]);
    expect(screen.queryByRole('dialog')).toBeNull();
  });

  it('approves with a local dataset only after its preview loaded', async () => {
    const preview = { name: 'mnist', samples: 8000, classes: 10, histogram: [800, 900, 790, 810, 780, 720, 800, 830, 770, 800], images: [{ label: 3, width: 2, height: 2, pixels: btoa('\x00\xff\x80\x10') }] };
    const { calls } = await renderApp(sampleSnapshot(), { previewDataset: () => preview, decideConsent: () => { throw new Error('stop here'); } });
    fireEvent.click(screen.getByRole('button', { name: 'Use my own dataset…' }));
    expect((screen.getByRole('button', { name: 'Approve with my dataset' }) as HTMLButtonElement).disabled).toBe(true);
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Preview' })));
    expect(screen.getByTestId('dataset-preview').textContent).toContain('8,000 samples');
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Approve with my dataset' })));
    expect(calls.at(-1)).toEqual({ method: 'decideConsent', arg: { id: 'ask-1', approve: true, localDataset: { kind: 'mnist', testFraction: 0.2 } } });
  });
});

describe('screens', () => {
  const noPrompt = (): Snapshot => ({ ...sampleSnapshot(), consents: [] });

  it('accepts an invitation from the Invitations screen', async () => {
    const { calls, store } = await renderApp(noPrompt(), { respondInvitation: (a: { id: string; accept: boolean }) => ({ ...sampleSnapshot().invitations[0]!, status: a.accept ? 'accepted' : 'declined' }) });
    fireEvent.click(screen.getByRole('button', { name: /Invitations/ }));
    expect(screen.getByText('Multilayer perceptron · 784 → 10 classes')).toBeDefined();
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Accept as client' })));
    expect(calls).toEqual([{ method: 'respondInvitation', arg: { id: 'inv-1', accept: true } }]);
    expect(store.getState().invitations['inv-1']!.status).toBe('accepted');
    expect(screen.getByText('Accepted')).toBeDefined();
  });

  it('charts each round’s accuracy and updates when a metric arrives', async () => {
    const { emit } = await renderApp(noPrompt());
    fireEvent.click(screen.getByRole('button', { name: /Training/ }));
    const chart = () => screen.getAllByRole('img', { name: 'Accuracy' }).find((e) => e.tagName === 'svg')!;
    expect(chart().getAttribute('data-points')).toBe('1');
    await act(async () => {
      emit('metric', { rootId: 'mnist-1a2b3c', job: 'mnist#0', round: 2, loss: 0.5, accuracy: 0.84, samples: 2000, at: '' });
      await new Promise((r) => setTimeout(r, 20));
    });
    expect(chart().getAttribute('data-points')).toBe('2');
    expect(screen.getByText('84.0%')).toBeDefined();
    expect(screen.getByTestId('round').textContent).toBe('2 / 5');
  });

  it('changes limits through the API from the Node screen', async () => {
    const { calls } = await renderApp(noPrompt(), { setLimits: (l: object) => ({ ...sampleSnapshot().node, limits: l }) });
    await act(async () => fireEvent.click(screen.getByRole('switch', { name: 'Only while idle' })));
    expect(calls).toEqual([{ method: 'setLimits', arg: { threads: 2, gpu: true, idleOnly: true } }]);
    // Here, as in `canopy node --ui`, there is no desktop API: the limit says it cannot apply.
    expect(screen.getByText(/Desktop app only: a browser cannot tell when you use this computer/)).toBeDefined();
  });

  it('says when training is paused because the owner is using this computer', async () => {
    const snap = sampleSnapshot();
    await renderApp({ ...snap, node: { ...snap.node, limits: { ...snap.node.limits, idleOnly: true }, pausedForOwner: true } });
    expect(screen.getByText('Paused: you are using this computer')).toBeDefined();
    expect(screen.queryByText('Online')).toBeNull();
  });

  it.each(['Invitations', 'Consent', 'Training', 'Outbox', 'Logs'])('the %s screen says what will fill it when empty', async (name) => {
    await renderApp({ ...sampleSnapshot(), invitations: [], consents: [], training: [], metrics: [] });
    fireEvent.click(screen.getByRole('button', { name: new RegExp(name) }));
    expect(document.querySelector('.empty h3')?.textContent).toMatch(/No|Not|Nothing/);
  });
});
