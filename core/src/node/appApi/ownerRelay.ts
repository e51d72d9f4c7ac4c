import type { ConsentMode, ConsentRequest, OwnerDecision } from '../consent.js';
import type { JobInvitation } from '../runtime/canopyNode.js';
import type { ConsentAnswer, JobOffer } from './nodePort.js';

/**
 * Connects a node that asks its owner to whoever answers for the owner (the app). The node is
 * built first, with `consent` and `invite` from here; the app installs its handlers later.
 * Until it has, or if a handler fails, the answer is no: nothing is joined or downloaded
 * without someone saying yes.
 */
export interface OwnerRelay {
  /** The node's `consent` option: ask the owner. */
  readonly consent: Extract<ConsentMode, { kind: 'ask' }>;
  /** The node's `invite` option: offer each job sheet to the owner. */
  readonly invite: (invitation: JobInvitation) => Promise<boolean>;
  setConsentHandler(handler: (request: ConsentRequest) => Promise<ConsentAnswer>): void;
  setInvitationHandler(handler: (offer: JobOffer) => Promise<boolean>): void;
}

/** Creates an {@link OwnerRelay}; give its `consent` and `invite` to the CanopyNode. */
export function createOwnerRelay(): OwnerRelay {
  let consent: ((request: ConsentRequest) => Promise<ConsentAnswer>) | undefined;
  let invite: ((offer: JobOffer) => Promise<boolean>) | undefined;
  return {
    consent: {
      kind: 'ask',
      ask: async (request, signal): Promise<OwnerDecision> => {
        if (!consent) return { given: false, reason: 'no one was there to answer for the owner (the app was not connected)' };
        const answer = await abortable(consent(request), signal);
        return { given: answer.given, ...(answer.localDataset ? { localDataset: answer.localDataset } : {}), ...(answer.reason ? { reason: answer.reason } : {}), ...(answer.receipt ? { receipt: answer.receipt } : {}) };
      },
    },
    invite: async (invitation) => (invite ? invite(invitation) : false),
    setConsentHandler: (h) => void (consent = h),
    setInvitationHandler: (h) => void (invite = h),
  };
}

function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new Error('the job stopped'));
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(new Error('the job stopped'));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
