import type { Api, EventName, EventPayload, Snapshot } from './api/types';

/**
 * An Api that records every request and lets the test push events, for store and component
 * tests. `answers` supplies results; requests without one resolve with their argument.
 */
export function createRecordingApi(snapshot: Snapshot, answers: Partial<Record<keyof Api, (arg: never) => unknown>> = {}) {
  const calls: { method: string; arg: unknown }[] = [];
  const listeners = new Map<string, Set<(p: unknown) => void>>();
  const request = (method: string) => async (arg: unknown) => {
    calls.push({ method, arg });
    const answer = answers[method as keyof Api] as ((a: unknown) => unknown) | undefined;
    return answer ? answer(arg) : arg;
  };
  const on = (event: EventName) => (l: (p: unknown) => void) => {
    const set = listeners.get(event) ?? new Set();
    listeners.set(event, set);
    set.add(l);
    return () => set.delete(l);
  };
  const api = {
    getSnapshot: async () => snapshot,
    setRoles: request('setRoles'),
    setLimits: request('setLimits'),
    pinBackend: request('pinBackend'),
    respondInvitation: request('respondInvitation'),
    decideConsent: request('decideConsent'),
    previewDataset: request('previewDataset'),
    revokeReceipt: request('revokeReceipt'),
    joinNetwork: request('joinNetwork'),
    onNode: on('node'),
    onInvitation: on('invitation'),
    onConsentPrompt: on('consentPrompt'),
    onConsentClosed: on('consentClosed'),
    onReceipt: on('receipt'),
    onTraining: on('training'),
    onMetric: on('metric'),
    onProgress: on('progress'),
    onOutbox: on('outbox'),
    onLog: on('log'),
  } as unknown as Api;
  const emit = <E extends EventName>(event: E, payload: EventPayload<E>) => {
    for (const l of listeners.get(event) ?? []) l(payload);
  };
  return { api, calls, emit };
}

/** A node snapshot with one of everything, for tests and nothing else. */
export function sampleSnapshot(): Snapshot {
  const hash = 'ab'.repeat(32);
  const request = { job: 'mnist#0', rootJob: 'mnist-1a2b3c', submitter: '12D3KooWSubmitter', dataset: { name: 'mnist', hash, size: 1_250_000, distributor: '12D3KooWDistributor', purpose: 'train model mlp in job mnist#0' } };
  return {
    node: {
      peerId: '12D3KooWNodeA',
      addresses: ['/ip4/127.0.0.1/tcp/4001'],
      peers: [],
      roles: { client: true, worker: true },
      limits: { threads: 2, gpu: true, idleOnly: false },
      backend: { active: 'wasm', pinned: 'auto', candidates: [{ name: 'wasm', available: true }, { name: 'cpu', available: true }] },
      running: true,
      version: '0.1.0',
    },
    invitations: [
      { id: 'inv-1', rootId: 'mnist-1a2b3c', job: 'mnist#0', role: 'client', submitter: '12D3KooWSubmitter', model: { kind: 'mlp', inputShape: [784], numClasses: 10 }, rounds: 5, dataset: { source: { kind: 'mnist', testFraction: 0.2 }, partition: { kind: 'iid' }, shard: { index: 0, of: 3 } }, receivedAt: '2026-01-01T10:00:00.000Z', status: 'pending' },
    ],
    consents: [{ id: 'ask-1', request, askedAt: '2026-01-01T10:00:01.000Z' }],
    receipts: [],
    training: [{ rootId: 'mnist-1a2b3c', job: 'mnist#0', role: 'client', stages: [{ job: 'mnist#0', clientStage: 2, workerStage: 2, processStage: 1 }], round: 2, rounds: 5, status: 'training' }],
    metrics: [{ rootId: 'mnist-1a2b3c', job: 'mnist#0', round: 1, loss: 0.9, accuracy: 0.71, samples: 2000, at: '2026-01-01T10:01:00.000Z' }],
    outbox: [],
    logs: [],
  };
}
