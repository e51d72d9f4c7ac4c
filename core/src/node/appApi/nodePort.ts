import type { ConsentReceipt, ConsentRequest } from '../consent.js';
import type { Network, Reachability } from '../../net/network.js';
import type { BackendChoice, BackendStatus, BatchProgress, Invitation, Limits, LogEntry, MetricPoint, OutboxEntry, PeerInfo, Roles, TrainingJob, LocalDataset } from './contract.js';

// What the app API needs from a running node. The libp2p runtime (core/src/node/runtime)
// is adapted to this shape in one place, so the UI layer never depends on the runtime's
// internals and can be tested over any node that keeps these promises.

/** A job sheet offered to this node: an invitation before the owner has answered. */
export type JobOffer = Omit<Invitation, 'id' | 'receivedAt' | 'status'>;

/** The owner's answer to a consent request. `localDataset` replaces the download when set. */
export interface ConsentAnswer {
  readonly given: boolean;
  readonly localDataset?: LocalDataset;
  /** Why, when nobody answered (the app closed). */
  readonly reason?: string;
  /** The receipt the app recorded for this answer; the node does not record it again. */
  readonly receipt?: ConsentReceipt;
}

/** Events a node reports, named `noun:verb` as libp2p does. */
export interface NodePortEvents {
  /** Connected peers, listen addresses or reachability changed. */
  'peers:change': undefined;
  /** A job this node takes part in changed stage, round or status. */
  'job:update': TrainingJob;
  /** A local training batch finished (high rate). */
  'train:progress': BatchProgress;
  /** A round's evaluation is known. */
  'round:metrics': MetricPoint;
  /** A blob or message left this machine. */
  'outbox:sent': Omit<OutboxEntry, 'id'>;
  /** A structured log line. */
  log: Omit<LogEntry, 'seq'>;
  /** The node recorded a consent decision by itself (a policy or flag decided, or nobody answered). */
  'consent:recorded': ConsentReceipt;
  /** The training backend changed or was measured. */
  'backend:change': BackendStatus;
  /** The owner started or stopped using this computer ("only while idle"). */
  'owner:activity': { ownerActive: boolean };
}

/** A running Canopy node as the app API sees it. */
export interface NodePort {
  readonly peerId: string;
  readonly version: string;
  /** Whether the node is started. */
  running(): boolean;
  /** Multiaddrs the node listens on. */
  addresses(): string[];
  /** Peers it is connected to. */
  peers(): PeerInfo[];
  /** Subscribes to one event; returns the unsubscribe function. */
  on<E extends keyof NodePortEvents>(event: E, listener: (payload: NodePortEvents[E]) => void): () => void;
  /**
   * Installs the owner's decision on job sheets: the node calls it before ACKing a sheet for
   * a client or worker role (protocol step 2) and joins only if it resolves true.
   */
  setInvitationHandler(handler: (offer: JobOffer) => Promise<boolean>): void;
  /** Installs the owner's decision on dataset downloads (protocol step 4, `askConsent`). */
  setConsentHandler(handler: (request: ConsentRequest) => Promise<ConsentAnswer>): void;
  /** Every consent receipt, oldest first. */
  receipts(): Promise<ConsentReceipt[]>;
  /** Records an owner's decision as a receipt. */
  recordConsent(request: ConsentRequest, decision: ConsentReceipt['decision'], reason: string): Promise<ConsentReceipt>;
  /** Leaves `job` of the job tree `rootId` (after consent is revoked); resolves once done. */
  withdraw(rootId: string, job: string, reason: string): Promise<void>;
  /** Applies the owner's limits to the compute pool. */
  setLimits(limits: Limits): Promise<void>;
  /** Switches or pins the training backend. */
  setBackend(choice: BackendChoice): Promise<BackendStatus>;
  /** The backend in use now. */
  backend(): BackendStatus;
  /** Whether training is paused because the owner is using this computer ("only while idle"). */
  ownerActive?(): boolean;
  /** How others can reach this node now (AutoNAT, relay slots). */
  reachability?(): Reachability;
  /** Joins a network: dials its bootstrap peers and relays; rejects with a one-line error when none answers. */
  joinNetwork?(network: Network): Promise<void>;
  /** Roles the owner offers; the node may advertise them. */
  setRoles?(roles: Roles): Promise<void>;
}
