import { describe, expect, it, vi } from 'vitest';
import { createAppStore } from './appStore';
import { bindApi } from './bindApi';
import { isStandingApproval } from './consentSlice';
import { bytesByRound } from './activitySlice';
import { orderJobs } from './trainingSlice';
import { createRecordingApi, sampleSnapshot } from '../testApi';
import type { Receipt, TrainingJob } from '../api/types';

describe('app store (no React)', () => {
  it('loads the snapshot and follows events', async () => {
    const { api, emit } = createRecordingApi(sampleSnapshot());
    const store = createAppStore();
    await bindApi(store, api, 10);
    const s = store.getState();
    expect(s.connection.state).toBe('open');
    expect(s.node?.peerId).toBe('12D3KooWNodeA');
    expect(Object.keys(s.invitations)).toEqual(['inv-1']);
    expect(s.prompts.map((p) => p.id)).toEqual(['ask-1']);
    emit('consentClosed', { id: 'ask-1' });
    expect(store.getState().prompts).toEqual([]);
  });

  it('coalesces high-rate progress into one store update per flush', async () => {
    vi.useFakeTimers();
    const { api, emit } = createRecordingApi(sampleSnapshot());
    const store = createAppStore();
    await bindApi(store, api, 200);
    const updates = vi.fn();
    store.subscribe((s) => s.progress, updates);
    for (let batch = 1; batch <= 500; batch++) emit('progress', { rootId: 'mnist-1a2b3c', job: 'mnist#0', round: 2, epoch: 0, epochs: 1, batch, batches: 500, samplesPerSec: 4000 });
    expect(updates).not.toHaveBeenCalled();
    vi.advanceTimersByTime(200);
    expect(updates).toHaveBeenCalledTimes(1);
    expect(store.getState().progress['mnist-1a2b3c/mnist#0']?.batch).toBe(500);
    vi.useRealTimers();
  });

  it('keeps one metric point per round, in round order', async () => {
    const store = createAppStore();
    const base = { rootId: 'r', job: 'j', samples: 1, at: '' };
    store.getState().addMetrics([{ ...base, round: 2, loss: 1, accuracy: 0.5 }, { ...base, round: 1, loss: 2, accuracy: 0.2 }]);
    store.getState().addMetrics([{ ...base, round: 2, loss: 0.8, accuracy: 0.6 }]);
    expect(store.getState().metrics['r/j']!.map((m) => [m.round, m.loss])).toEqual([[1, 2], [2, 0.8]]);
  });

  it('sends the owner’s consent decision and files the receipt', async () => {
    const snap = sampleSnapshot();
    const receipt: Receipt = { id: 'rc-1', seq: 1, at: '', request: snap.consents[0]!.request, decision: 'approved', by: 'owner', reason: 'approved by the owner' };
    const { api, calls } = createRecordingApi(snap, { decideConsent: () => receipt });
    const store = createAppStore();
    await bindApi(store, api, 10);
    await store.getState().decideConsent('ask-1', true);
    expect(calls).toEqual([{ method: 'decideConsent', arg: { id: 'ask-1', approve: true } }]);
    expect(store.getState().prompts).toEqual([]);
    expect(store.getState().receipts.map((r) => r.id)).toEqual(['rc-1']);
  });

  it('turns a failed request into an error notice rather than an exception', async () => {
    const { api } = createRecordingApi(sampleSnapshot(), {
      respondInvitation: () => {
        throw new Error('invitation inv-1 was already answered');
      },
    });
    const store = createAppStore();
    await bindApi(store, api, 10);
    await store.getState().respondInvitation('inv-1', true);
    expect(store.getState().notices.map((n) => n.text)).toEqual(['Could not accept the invitation: invitation inv-1 was already answered']);
  });
});

describe('orderJobs', () => {
  it('puts running jobs first, newest first, then the rest', () => {
    const job = (job: string, status: TrainingJob['status']): TrainingJob => ({ rootId: `${job}-1`, job, role: 'client', stages: [], round: 1, rounds: 3, status });
    const order = orderJobs([job('a', 'finished'), job('b', 'training'), job('c', 'withdrawn'), job('d', 'waiting')]).map((j) => j.job);
    expect(order).toEqual(['d', 'b', 'c', 'a']);
  });
});

describe('isStandingApproval', () => {
  const req = sampleSnapshot().consents[0]!.request;
  const r = (seq: number, decision: Receipt['decision'], job = req.job): Receipt => ({ id: `r${seq}`, seq, at: '', request: { ...req, job }, decision, by: 'owner', reason: '' });
  it.each([
    { name: 'a lone approval', list: [r(1, 'approved')], target: 0, standing: true },
    { name: 'an approval later revoked', list: [r(1, 'approved'), r(2, 'revoked')], target: 0, standing: false },
    { name: 'a refusal', list: [r(1, 'refused')], target: 0, standing: false },
    { name: 'an approval of another job after it', list: [r(1, 'approved'), r(2, 'revoked', 'other')], target: 0, standing: true },
  ])('$name → $standing', ({ list, target, standing }) => {
    expect(isStandingApproval(list, list[target]!)).toBe(standing);
  });
});

describe('bytesByRound', () => {
  it('sums each round', () => {
    const e = (round: number, bytes: number) => ({ id: `${round}-${bytes}`, at: '', rootId: 'r', job: 'j', round, kind: 'parameters' as const, bytes, hashes: [], recipients: [] });
    expect(bytesByRound([e(2, 5), e(1, 10), e(2, 7)])).toEqual([{ round: 1, bytes: 10, items: 1 }, { round: 2, bytes: 12, items: 2 }]);
  });
});
