import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConsentLedger, type ConsentRequest } from '../consent.js';
import { NodeStore } from '../../storage/nodeStore.js';
import type { BackendChoice, BackendStatus, Limits } from './contract.js';
import type { ConsentAnswer, JobOffer, NodePort, NodePortEvents } from './nodePort.js';

/**
 * A NodePort with a real consent ledger on disk whose node side is driven by the test: it
 * offers jobs and asks consent as the runtime would, and records what the app told it.
 * For tests of the app API and its transports only.
 */
export async function createTestNodePort(): Promise<NodePort & {
  events: { emit<E extends keyof NodePortEvents>(event: E, payload: NodePortEvents[E]): void };
  offer(o: JobOffer): Promise<boolean>;
  ask(r: ConsentRequest): Promise<ConsentAnswer>;
  withdrawn: string[];
  limits: Limits[];
  /** Whether the owner is using the computer, as the node would report it. */
  owner: { active: boolean };
}> {
  const ledger = new ConsentLedger(new NodeStore(await mkdtemp(join(tmpdir(), 'canopy-app-'))));
  const listeners = new Map<string, Set<(p: never) => void>>();
  const events = {
    emit<E extends keyof NodePortEvents>(event: E, payload: NodePortEvents[E]) {
      for (const l of listeners.get(event) ?? []) (l as (p: NodePortEvents[E]) => void)(payload);
    },
  };
  let invite: ((o: JobOffer) => Promise<boolean>) | undefined;
  let consent: ((r: ConsentRequest) => Promise<ConsentAnswer>) | undefined;
  let pinned: BackendChoice = 'auto';
  const withdrawn: string[] = [];
  const limits: Limits[] = [];
  const owner = { active: false };
  const backend = (): BackendStatus => ({ active: 'wasm', pinned, candidates: [{ name: 'wasm', available: true }, { name: 'cpu', available: true }], samplesPerSec: 5200 });
  return {
    peerId: '12D3KooWTestPeer',
    version: '0.1.0-test',
    events,
    withdrawn,
    limits,
    owner,
    running: () => true,
    ownerActive: () => owner.active,
    addresses: () => ['/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWTestPeer'],
    peers: () => [{ peerId: '12D3KooWOther', addresses: ['/ip4/127.0.0.1/tcp/4002'] }],
    on: (e, l) => {
      const set = listeners.get(e) ?? new Set();
      listeners.set(e, set);
      set.add(l as (p: never) => void);
      return () => set.delete(l as (p: never) => void);
    },
    setInvitationHandler: (h) => void (invite = h),
    setConsentHandler: (h) => void (consent = h),
    receipts: () => ledger.list(),
    recordConsent: (req, decision, reason) => ledger.record(req, decision, 'owner', reason),
    withdraw: async (_rootId, job) => void withdrawn.push(job),
    setLimits: async (l) => void limits.push(l),
    setBackend: async (choice) => {
      pinned = choice;
      return backend();
    },
    backend,
    offer: (o) => invite!(o),
    ask: (r) => consent!(r),
  };
}
