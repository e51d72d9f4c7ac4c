import { describe, expect, it } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppApi } from './appApi.js';
import { DEFAULT_APP_SETTINGS, loadAppSettings, saveAppSettings, startupBackend } from './appSettings.js';
import { createTestNodePort } from './testNodePort.js';
import type { JobOffer } from './nodePort.js';
import type { EventName, EventPayload } from './contract.js';

const offer: JobOffer = {
  rootId: 'mnist-abc123',
  job: 'mnist#0',
  role: 'client',
  submitter: '12D3KooWSubmitter',
  model: { kind: 'mlp', inputShape: [784], numClasses: 10 },
  rounds: 5,
  dataset: { source: { kind: 'mnist', testFraction: 0.2 }, partition: { kind: 'iid' } },
};
const request = { job: 'mnist#0', rootJob: 'mnist-abc123', submitter: '12D3KooWSubmitter', dataset: { name: 'mnist', hash: 'a'.repeat(64), size: 1234, purpose: 'train mlp' } };

function recorder(api: AppApi) {
  const seen: { name: EventName; payload: unknown }[] = [];
  for (const name of ['invitation', 'consentPrompt', 'consentClosed', 'receipt', 'node', 'metric', 'outbox', 'log'] as EventName[]) api.on(name, (p: EventPayload<typeof name>) => seen.push({ name, payload: p }));
  return seen;
}

describe('AppApi', () => {
  it('asks the owner about a job sheet and tells the node the answer', async () => {
    const port = await createTestNodePort();
    const api = new AppApi(port);
    const seen = recorder(api);
    const joined = port.offer(offer);
    const inv = seen.find((e) => e.name === 'invitation')!.payload as { id: string; status: string };
    expect(inv.status).toBe('pending');
    expect((await api.getSnapshot()).invitations).toHaveLength(1);
    const answered = await api.respondInvitation({ id: inv.id, accept: true });
    expect(answered.status).toBe('accepted');
    expect(await joined).toBe(true);
    await expect(api.respondInvitation({ id: inv.id, accept: false })).rejects.toThrow(/already answered/);
  });

  it('declines at once a role the owner does not offer', async () => {
    const port = await createTestNodePort();
    const api = new AppApi(port, { roles: { client: false, worker: true } });
    expect(await port.offer(offer)).toBe(false);
    expect((await api.getSnapshot()).invitations[0]!.status).toBe('declined');
  });

  it.each([
    { approve: true, given: true, decision: 'approved' },
    { approve: false, given: false, decision: 'refused' },
  ])('records the owner’s consent decision as a receipt (approve=$approve)', async ({ approve, given, decision }) => {
    const port = await createTestNodePort();
    const api = new AppApi(port);
    const seen = recorder(api);
    const answer = port.ask(request);
    const prompt = (await api.getSnapshot()).consents[0]!;
    expect(prompt.request.dataset.hash).toBe(request.dataset.hash);
    const receipt = await api.decideConsent({ id: prompt.id, approve });
    expect(receipt.decision).toBe(decision);
    expect(receipt.by).toBe('owner');
    expect((await answer).given).toBe(given);
    expect(seen.map((e) => e.name)).toContain('consentClosed');
    expect((await api.getSnapshot()).consents).toHaveLength(0);
  });

  it('passes a local dataset the owner chose to the node', async () => {
    const port = await createTestNodePort();
    const api = new AppApi(port);
    const answer = port.ask(request);
    const prompt = (await api.getSnapshot()).consents[0]!;
    await api.decideConsent({ id: prompt.id, approve: true, localDataset: { kind: 'fashion-mnist', path: '/data/fm' } });
    expect(await answer).toMatchObject({ given: true, localDataset: { kind: 'fashion-mnist', path: '/data/fm' }, receipt: { decision: 'approved', by: 'owner' } });
  });

  it('revokes only a standing approval, and withdraws the node from the job', async () => {
    const port = await createTestNodePort();
    const api = new AppApi(port);
    const answer = port.ask(request);
    const prompt = (await api.getSnapshot()).consents[0]!;
    const approved = await api.decideConsent({ id: prompt.id, approve: true });
    await answer;
    const revoked = await api.revokeReceipt({ id: approved.id });
    expect(revoked.decision).toBe('revoked');
    expect(port.withdrawn).toEqual(['mnist#0']);
    await expect(api.revokeReceipt({ id: approved.id })).rejects.toThrow(/not a standing approval/);
    await expect(api.revokeReceipt({ id: 'nope' })).rejects.toThrow(/no consent receipt/);
  });

  it('keeps only the newest entries for a window that opens later', async () => {
    const port = await createTestNodePort();
    const api = new AppApi(port, { keep: 3 });
    for (let round = 1; round <= 5; round++) port.events.emit('outbox:sent', { at: new Date().toISOString(), rootId: 'r', job: 'j', round, kind: 'parameters', bytes: 10, hashes: [], recipients: [] });
    expect((await api.getSnapshot()).outbox.map((e) => e.round)).toEqual([3, 4, 5]);
  });

  it('declines every open question when closed, so the node never waits on a closed UI', async () => {
    const port = await createTestNodePort();
    const api = new AppApi(port);
    const joined = port.offer(offer);
    const answer = port.ask(request);
    api.close();
    expect(await joined).toBe(false);
    expect((await answer).given).toBe(false);
  });

  it('keeps the owner’s roles, limits and pin for the next start', async () => {
    const port = await createTestNodePort();
    const dir = await mkdtemp(join(tmpdir(), 'canopy-settings-'));
    expect(await loadAppSettings(dir)).toEqual(DEFAULT_APP_SETTINGS);
    const api = new AppApi(port, { saveSettings: (s) => saveAppSettings(dir, s) });
    await api.setLimits({ threads: 4, gpu: false, idleOnly: true });
    await api.setRoles({ client: true, worker: false });
    await api.pinBackend({ choice: 'wasm' });
    expect(await loadAppSettings(dir)).toEqual({ v: 1, roles: { client: true, worker: false }, limits: { threads: 4, gpu: false, idleOnly: true }, backend: 'wasm' });
    await writeFile(join(dir, 'app-settings.json'), '{"v":1,"roles":"nonsense"}');
    expect(await loadAppSettings(dir)).toEqual(DEFAULT_APP_SETTINGS);
    expect(startupBackend('webgpu')).toBe('auto');
    expect(startupBackend('tfjs-node')).toBe('tfjs-node');
  });

  it('applies limits and roles through the node and reports the new node info', async () => {
    const port = await createTestNodePort();
    const api = new AppApi(port);
    const info = await api.setLimits({ threads: 3, gpu: false, idleOnly: true });
    expect(info.limits).toEqual({ threads: 3, gpu: false, idleOnly: true });
    expect(port.limits).toEqual([{ threads: 3, gpu: false, idleOnly: true }]);
    expect((await api.setRoles({ client: true, worker: false })).roles.worker).toBe(false);
    expect((await api.pinBackend({ choice: 'cpu' })).pinned).toBe('cpu');
  });

  it('tells the UI when training pauses because the owner is using the computer, and when it resumes', async () => {
    const port = await createTestNodePort();
    const api = new AppApi(port);
    const seen = recorder(api);
    expect((await api.getSnapshot()).node.pausedForOwner).toBeUndefined();
    port.owner.active = true;
    port.events.emit('owner:activity', { ownerActive: true });
    port.owner.active = false;
    port.events.emit('owner:activity', { ownerActive: false });
    const nodes = seen.filter((e) => e.name === 'node').map((e) => (e.payload as { pausedForOwner?: boolean }).pausedForOwner);
    expect(nodes).toEqual([true, undefined]);
  });
});
