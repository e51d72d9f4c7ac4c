import { describe, expect, it } from 'vitest';
import type { JobInvitation } from '../runtime/canopyNode.js';
import { createOwnerRelay } from './ownerRelay.js';

const request = { job: 'j', rootJob: 'j-1', submitter: 's', dataset: { name: 'mnist', hash: 'a'.repeat(64), size: 10, purpose: 'p' } };
const invitation: JobInvitation = { rootId: 'j-1', job: 'j', role: 'client', submitter: 's', model: { kind: 'logreg', inputShape: [784], numClasses: 10 }, rounds: 2, dataset: { source: { kind: 'mnist', testFraction: 0.2 }, partition: { kind: 'iid' } } };

describe('createOwnerRelay', () => {
  it('says no while no one answers for the owner', async () => {
    const relay = createOwnerRelay();
    expect(await relay.invite(invitation)).toBe(false);
    expect(await relay.consent.ask(request, new AbortController().signal)).toMatchObject({ given: false, reason: expect.stringMatching(/not connected/) });
  });

  it('passes the app’s answers through', async () => {
    const relay = createOwnerRelay();
    relay.setInvitationHandler(async (offer) => offer.job === 'j');
    relay.setConsentHandler(async () => ({ given: true, localDataset: { kind: 'fashion-mnist', path: '/d' } }));
    expect(await relay.invite(invitation)).toBe(true);
    expect(await relay.consent.ask(request, new AbortController().signal)).toEqual({ given: true, localDataset: { kind: 'fashion-mnist', path: '/d' } });
  });

  it('stops waiting when the job stops', async () => {
    const relay = createOwnerRelay();
    relay.setConsentHandler(() => new Promise(() => undefined));
    const ac = new AbortController();
    const asked = relay.consent.ask(request, ac.signal);
    ac.abort();
    await expect(asked).rejects.toThrow(/job stopped/);
  });
});
