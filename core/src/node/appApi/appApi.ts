import { randomUUID } from 'node:crypto';
import type { ConsentReceipt, ConsentRequest } from '../consent.js';
import { BadInputError } from '../../util/errors.js';
import { parseNetwork, type Network } from '../../net/network.js';
import type { ApiHandlers, ConsentPrompt, MethodDecodedArg, MethodResult, DatasetPreview, EventName, EventPayload, Invitation, Limits, LocalDataset, LogEntry, MetricPoint, OutboxEntry, Roles, TrainingJob } from './contract.js';
import type { ConsentAnswer, JobOffer, NodePort } from './nodePort.js';
import { previewDataset as loadPreview } from './previewDataset.js';
import type { AppSettings } from './appSettings.js';

/** Options of {@link AppApi}; every field has a default. */
export interface AppApiInit {
  /** Roles offered at start (default: client and worker). */
  readonly roles?: Roles;
  /** Limits at start (default: all cores but one, GPU on, not only when idle). */
  readonly limits?: Limits;
  /** How many log lines, outbox entries and metric points are kept for a new window. */
  readonly keep?: number;
  /** Clock, for tests. */
  readonly now?: () => Date;
  /** Loads a local dataset's preview; default reads it from disk. */
  readonly preview?: (source: LocalDataset) => Promise<DatasetPreview>;
  /** Networks the node joined before the app opened (kept settings, `canopy node --network`). */
  readonly networks?: readonly Network[];
  /** Keeps the owner's roles, limits, backend pin and networks (e.g. `saveAppSettings`) after each change. */
  readonly saveSettings?: (settings: AppSettings) => Promise<void>;
}

type Listener<E extends EventName> = (payload: EventPayload<E>) => void;

interface Pending<T> {
  readonly value: T;
  readonly resolve: (answer: T extends ConsentPrompt ? ConsentAnswer : boolean) => void;
}

/**
 * The app's view of one node: it answers the UI's requests and pushes events, whatever the
 * transport (Electron IPC, WebSocket). It keeps what a newly opened window needs to catch up
 * (pending questions, receipts, recent metrics, outbox and logs) and turns the owner's
 * answers into the node's decisions. Electron's main process and the UI server only carry
 * messages to and from it.
 */
export class AppApi implements ApiHandlers {
  private roles: Roles;
  private limits: Limits;
  private networks: Network[];
  private readonly keep: number;
  private readonly now: () => Date;
  private readonly preview: (source: LocalDataset) => Promise<DatasetPreview>;
  private readonly saveSettings: ((settings: AppSettings) => Promise<void>) | undefined;
  private readonly invitations = new Map<string, Invitation>();
  private readonly invitationAnswers = new Map<string, (accept: boolean) => void>();
  private readonly prompts = new Map<string, Pending<ConsentPrompt>>();
  private readonly training = new Map<string, TrainingJob>();
  private readonly metrics: MetricPoint[] = [];
  private readonly outbox: OutboxEntry[] = [];
  private readonly logs: LogEntry[] = [];
  private logSeq = 0;
  private readonly listeners = new Map<EventName, Set<Listener<EventName>>>();
  private readonly unsubscribe: (() => void)[] = [];

  constructor(
    private readonly node: NodePort,
    init: AppApiInit = {},
  ) {
    this.roles = init.roles ?? { client: true, worker: true };
    this.limits = init.limits ?? { threads: 1, gpu: true, idleOnly: false };
    this.networks = [...(init.networks ?? [])];
    this.keep = init.keep ?? 2000;
    this.now = init.now ?? (() => new Date());
    this.preview = init.preview ?? ((source) => loadPreview(source));
    this.saveSettings = init.saveSettings;
    node.setInvitationHandler((offer) => this.offer(offer));
    node.setConsentHandler((request) => this.ask(request));
    this.unsubscribe.push(
      node.on('peers:change', () => this.emit('node', this.nodeInfo())),
      node.on('backend:change', () => this.emit('node', this.nodeInfo())),
      node.on('owner:activity', () => this.emit('node', this.nodeInfo())),
      node.on('job:update', (job) => {
        this.training.set(`${job.rootId}/${job.job}/${job.role}`, job);
        this.emit('training', job);
      }),
      node.on('train:progress', (p) => this.emit('progress', p)),
      node.on('round:metrics', (m) => {
        push(this.metrics, m, this.keep);
        this.emit('metric', m);
      }),
      node.on('outbox:sent', (entry) => {
        const full: OutboxEntry = { id: randomUUID(), ...entry };
        push(this.outbox, full, this.keep);
        this.emit('outbox', full);
      }),
      node.on('consent:recorded', (r) => this.emit('receipt', toReceipt(r))),
      node.on('log', (line) => this.log(line.level, line.msg, line.fields, line.at)),
    );
  }

  /** Stops listening to the node and declines every open question, so the node never hangs on a closed UI. */
  close(): void {
    for (const off of this.unsubscribe.splice(0)) off();
    for (const answer of this.invitationAnswers.values()) answer(false);
    this.invitationAnswers.clear();
    for (const p of this.prompts.values()) (p.resolve as (a: ConsentAnswer) => void)({ given: false, reason: 'the app closed before the owner answered' });
    this.prompts.clear();
    this.listeners.clear();
  }

  /** Subscribes to one of the contract's events; returns the unsubscribe function. */
  on<E extends EventName>(event: E, listener: Listener<E>): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener as Listener<EventName>);
    return () => set.delete(listener as Listener<EventName>);
  }

  async getSnapshot(): Promise<MethodResult<'getSnapshot'>> {
    return {
      node: this.nodeInfo(),
      invitations: [...this.invitations.values()],
      consents: [...this.prompts.values()].map((p) => p.value),
      receipts: (await this.node.receipts()).map(toReceipt),
      training: [...this.training.values()],
      metrics: [...this.metrics],
      outbox: [...this.outbox],
      logs: [...this.logs],
    };
  }

  async setRoles(roles: Roles): Promise<EventPayload<'node'>> {
    this.roles = { ...roles };
    await this.node.setRoles?.(this.roles);
    this.log('info', 'roles changed', { client: roles.client, worker: roles.worker });
    await this.keepSettings();
    return this.changedNode();
  }

  async setLimits(limits: Limits): Promise<EventPayload<'node'>> {
    this.limits = { ...limits };
    await this.node.setLimits(this.limits);
    this.log('info', 'limits changed', { ...limits });
    await this.keepSettings();
    return this.changedNode();
  }

  async pinBackend({ choice }: MethodDecodedArg<'pinBackend'>): Promise<MethodResult<'pinBackend'>> {
    const status = await this.node.setBackend(choice);
    this.log('info', 'backend pinned', { choice, active: status.active });
    await this.keepSettings();
    this.emit('node', this.nodeInfo());
    return status;
  }

  /**
   * Joins the network a pasted network file or invite link describes. A text that does not
   * parse, or a network none of whose peers answers, is a one-line error and is not kept.
   */
  async joinNetwork({ text }: MethodDecodedArg<'joinNetwork'>): Promise<EventPayload<'node'>> {
    const network = parseNetwork(text, 'the pasted network');
    if (!this.node.joinNetwork) throw new BadInputError('this node cannot join networks');
    await this.node.joinNetwork(network);
    // Joining a network again (a newer file of it) replaces the one kept under its name.
    this.networks = [...this.networks.filter((n) => n.name !== network.name), network];
    this.log('info', 'joined network', { network: network.name, bootstrap: network.bootstrap.length, relays: network.relays?.length ?? 0 });
    await this.keepSettings();
    return this.changedNode();
  }

  async respondInvitation({ id, accept }: { id: string; accept: boolean }): Promise<Invitation> {
    const inv = this.invitations.get(id);
    const answer = this.invitationAnswers.get(id);
    if (!inv) throw new BadInputError(`no invitation ${id}; reload the Invitations screen`);
    if (!answer) throw new BadInputError(`invitation ${id} was already answered (${inv.status})`);
    this.invitationAnswers.delete(id);
    const done: Invitation = { ...inv, status: accept ? 'accepted' : 'declined' };
    this.invitations.set(id, done);
    answer(accept);
    this.log('info', accept ? 'invitation accepted' : 'invitation declined', { job: inv.job, role: inv.role, submitter: inv.submitter });
    this.emit('invitation', done);
    return done;
  }

  async decideConsent({ id, approve, localDataset }: { id: string; approve: boolean; localDataset?: LocalDataset }): Promise<EventPayload<'receipt'>> {
    const pending = this.prompts.get(id);
    if (!pending) throw new BadInputError(`no open consent request ${id}; it may have been answered in another window`);
    this.prompts.delete(id);
    const { request } = pending.value;
    const reason = !approve ? 'declined by the owner' : localDataset ? `approved by the owner with a local ${localDataset.kind} dataset` : 'approved by the owner';
    const receipt = await this.node.recordConsent(request as ConsentRequest, approve ? 'approved' : 'refused', reason);
    (pending.resolve as (a: ConsentAnswer) => void)(approve ? { given: true, receipt, ...(localDataset ? { localDataset } : {}) } : { given: false, receipt });
    this.log('info', approve ? 'dataset approved' : 'dataset declined', { job: request.job, dataset: request.dataset.name, hash: request.dataset.hash });
    this.emit('consentClosed', { id });
    this.emit('receipt', toReceipt(receipt));
    return toReceipt(receipt);
  }

  async previewDataset({ source }: { source: LocalDataset }): Promise<DatasetPreview> {
    return this.preview(source);
  }

  async revokeReceipt({ id }: { id: string }): Promise<EventPayload<'receipt'>> {
    const all = await this.node.receipts();
    const target = all.find((r) => r.id === id);
    if (!target) throw new BadInputError(`no consent receipt ${id}`);
    const latest = all.filter((r) => r.request.job === target.request.job && r.request.dataset.hash === target.request.dataset.hash).at(-1);
    // Only the standing approval can be revoked; an older one was already superseded.
    if (target.decision !== 'approved' || latest?.id !== target.id) throw new BadInputError(`receipt ${id} is not a standing approval, so there is nothing to revoke`);
    const revoked = await this.node.recordConsent(target.request, 'revoked', 'revoked by the owner');
    await this.node.withdraw(target.request.rootJob, target.request.job, 'the owner revoked consent for its dataset');
    this.log('warn', 'consent revoked; leaving the job at its next stage', { job: target.request.job });
    this.emit('receipt', toReceipt(revoked));
    return toReceipt(revoked);
  }

  // A setting that cannot be kept still applies now; the owner is told in the log.
  private async keepSettings(): Promise<void> {
    try {
      await this.saveSettings?.({ v: 1, roles: { ...this.roles }, limits: { ...this.limits }, backend: this.node.backend().pinned, ...(this.networks.length > 0 ? { networks: [...this.networks] } : {}) });
    } catch (err) {
      this.log('warn', 'could not save the settings; they apply until the node stops', { err: (err as Error).message });
    }
  }

  private nodeInfo(): EventPayload<'node'> {
    return {
      peerId: this.node.peerId,
      addresses: this.node.addresses(),
      peers: this.node.peers(),
      roles: { ...this.roles },
      limits: { ...this.limits },
      backend: this.node.backend(),
      running: this.node.running(),
      version: this.node.version,
      ...(this.node.ownerActive?.() ? { pausedForOwner: true } : {}),
      ...(this.node.reachability ? { reachability: this.node.reachability() } : {}),
      networks: [...this.networks],
    };
  }

  private changedNode(): EventPayload<'node'> {
    const info = this.nodeInfo();
    this.emit('node', info);
    return info;
  }

  private offer(offer: JobOffer): Promise<boolean> {
    const id = `${offer.rootId}/${offer.job}/${offer.role}`;
    const receivedAt = this.now().toISOString();
    if (!this.roles[offer.role]) {
      // The owner does not offer this role at all, so there is nothing to ask.
      const declined: Invitation = { ...offer, id, receivedAt, status: 'declined' };
      this.invitations.set(id, declined);
      this.log('info', 'invitation declined: role not offered', { job: offer.job, role: offer.role });
      this.emit('invitation', declined);
      return Promise.resolve(false);
    }
    const inv: Invitation = { ...offer, id, receivedAt, status: 'pending' };
    this.invitations.set(id, inv);
    this.log('info', 'invitation received', { job: offer.job, role: offer.role, submitter: offer.submitter });
    this.emit('invitation', inv);
    return new Promise((resolve) => this.invitationAnswers.set(id, resolve));
  }

  private ask(request: ConsentRequest): Promise<ConsentAnswer> {
    const prompt: ConsentPrompt = { id: randomUUID(), request: { ...request, dataset: { ...request.dataset } }, askedAt: this.now().toISOString() };
    this.log('info', 'consent requested', { job: request.job, dataset: request.dataset.name, size: request.dataset.size });
    return new Promise((resolve) => {
      this.prompts.set(prompt.id, { value: prompt, resolve: resolve as Pending<ConsentPrompt>['resolve'] });
      this.emit('consentPrompt', prompt);
    });
  }

  private log(level: LogEntry['level'], msg: string, fields: Record<string, unknown> = {}, at = this.now().toISOString()): void {
    const entry: LogEntry = { seq: ++this.logSeq, at, level, msg, fields };
    push(this.logs, entry, this.keep);
    this.emit('log', entry);
  }

  private emit<E extends EventName>(event: E, payload: EventPayload<E>): void {
    for (const listener of this.listeners.get(event) ?? []) {
      // One failing window must not stop the others, nor the node that emitted.
      try {
        (listener as Listener<E>)(payload);
      } catch {
        /* the transport reports its own failures */
      }
    }
  }
}

function push<T>(list: T[], item: T, keep: number): void {
  list.push(item);
  if (list.length > keep) list.splice(0, list.length - keep);
}

function toReceipt(r: ConsentReceipt): EventPayload<'receipt'> {
  const { distributor, ...dataset } = r.request.dataset;
  return { id: r.id, seq: r.seq, at: r.at, decision: r.decision, by: r.by, reason: r.reason, request: { job: r.request.job, rootJob: r.request.rootJob, submitter: r.request.submitter, dataset: { ...dataset, ...(distributor === undefined ? {} : { distributor }) } } };
}
