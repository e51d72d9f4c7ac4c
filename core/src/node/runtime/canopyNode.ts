import '../../net/polyfill.js';
import type { PeerId } from '@libp2p/interface';
import { createCanopyNode, reserveRelaySlot, type CanopyLibp2p } from '../../net/createNode.js';
import type { GossipChannel } from '../../net/gossipChannel.js';
import { loadOrCreateIdentity } from '../../net/identity.js';
import { joinNetwork, peerOfAddress, reachabilityOf } from '../../net/join.js';
import { peerIdFromString } from '@libp2p/peer-id';
import { multiaddr } from '@multiformats/multiaddr';
import type { Network, Reachability } from '../../net/network.js';
import type { BackendPreference } from '../../ml/backend.js';
import type { DatasetSpec, ModelSpec, PartitionSpec } from '../../spec/ml.js';
import { deriveJobSheet } from '../../protocol/jobSheet.js';
import { allMembers, rolesOf, type JobTree } from '../../protocol/jobTree.js';
import type { BlobRef } from '../../protocol/messages/common.js';
import type { PrivacySpec } from '../../protocol/privacy.js';
import { createLog, type Log } from '../../util/log.js';
import { ConsentLedger, type ConsentMode } from '../consent.js';
import { NodeStore } from '../../storage/nodeStore.js';
import { encodeAnnounce, openAnnounceChannel } from './announcer.js';
import { BlobPlane } from './blobPlane.js';
import type { ComputeBackend } from '../../compute/computeBackend.js';
import { IdleGate } from '../../compute/idleGate.js';
import { mlCompute } from '../../compute/mlCompute.js';
import { syntheticCompute } from '../../compute/syntheticCompute.js';
import { BadInputError } from '../../util/errors.js';
import { TypedEmitter, type CanopyNodeEvents } from './events.js';
import { DEFAULT_RETENTION, releaseStoredJobBlobs, type RetentionPolicy } from './blobRetention.js';
import { manifestBlob } from '../../protocol/machines/hostState.js';
import { JobRunner, RUNTIME_RECORD, type RuntimeRecord, type TrafficCounters } from './jobRunner.js';
import { serveSubmissions, type SubmitReply } from './submitProtocol.js';
import { MAX_SUBMISSION_BYTES, openSubmission, type Announce, type OpenedSubmission } from './submission.js';

/** NAT traversal settings of a {@link CanopyNode}. */
export interface NatOptions {
  /** Relay for others: once AutoNAT confirms a public address (`auto`, the default), always (`on`, a dedicated relay), or never. */
  readonly relayServer?: 'auto' | 'on' | 'off';
  /** Relay slots to hold while not publicly reachable (default 2). */
  readonly relaySlots?: number;
  readonly upnp?: boolean;
  /**
   * As a relay, also carry without limits the members of jobs signed by these submitters
   * (peer ids), learnt from their root hosts' announcements: for a relay that takes part in
   * no job itself. Members of jobs this node takes part in always are.
   */
  readonly relayForSubmitters?: readonly string[];
}

/** With NAT traversal on, a node with neither a public address nor a relay slot this long after start is `unreachable`. */
export /** How long a lookup of a member by peer id may take before the network's relays are tried. */
const LOOKUP_TIMEOUT_MS = 10_000;
const UNREACHABLE_AFTER_MS = 30_000;

/** Options of {@link CanopyNode}; everything but `dataDir` has a default. */
export interface CanopyNodeOptions {
  /** Identity, blobs, job state, checkpoints and consent receipts live here. */
  readonly dataDir: string;
  readonly listen?: readonly string[];
  /** Extra addresses to advertise (e.g. a router's public address forwarded to this node). */
  readonly announce?: readonly string[];
  readonly bootstrap?: readonly string[];
  readonly mdns?: boolean;
  /**
   * NAT traversal (relay reservations, AutoNAT v2, DCUtR, UPnP, the DHT; see docs/DEPLOY.md).
   * Off by default for the library (tests on one machine need none); `canopy node` turns it on.
   */
  readonly nat?: boolean | NatOptions;
  /** Accept many connections per second from one host (every node on 127.0.0.1). */
  readonly loopbackCluster?: boolean;
  /** Use the in-process memory transport (tests, the simulator's fidelity mode). */
  readonly inMemory?: boolean;
  /** How this node answers consent requests; default: refuse (no policy). */
  readonly consent?: ConsentMode;
  /** `ml` (worker-thread training, the default), `synthetic` (cheap stand-in arithmetic), or a backend. */
  readonly compute?: 'ml' | 'synthetic' | ComputeBackend;
  readonly computeThreads?: number;
  readonly backend?: BackendPreference;
  /** Synthetic compute only: how long each training task takes. */
  readonly syntheticTrainMs?: number;
  /** With synthetic compute: parameters per vector (default the simulator's). */
  readonly syntheticParams?: number;
  /** Train on this dataset instead of the manifest's shard or the distributor's chunk. */
  readonly localDataset?: DatasetSpec;
  /** Datasets the owner registered by name, for artifacts: name → CSV file. */
  readonly datasets?: ReadonlyMap<string, string>;
  /** Whether this node, as a root host, lets an artifact's result be downloaded (the artifact must allow it too). */
  readonly serveResults?: boolean;
  /** Largest dataset chunk downloaded (default 512 MiB). */
  readonly maxDataBytes?: number;
  /** Root hosts announce their jobs this often (default 2 s). */
  readonly announceMs?: number;
  /**
   * Seeds each protocol machine's random draws (a host's client sample) from its key
   * (`role:job`), so a run is reproducible: the simulator's fidelity mode passes the seeds
   * its modelled shell uses. Default: a fresh random seed per machine.
   */
  readonly machineSeed?: (machineKey: string) => number;
  /** How long parameter blobs stay in the store (see docs/CLI.md, "Retention"). */
  readonly retention?: Partial<RetentionPolicy>;
  readonly log?: Log;
  /**
   * Asked before this node takes a client or worker role in an announced job (the desktop
   * app's Invitations screen); the job is joined only if every such role is accepted. Without
   * it, a node joins every job whose manifest names it. Jobs submitted to this node, and jobs
   * resumed from disk, are not asked about again.
   */
  readonly invite?: (invitation: JobInvitation) => Promise<boolean>;
}

/** A job sheet offered to this node's owner: what the job wants from them, per role. */
export interface JobInvitation {
  readonly rootId: string;
  readonly job: string;
  readonly role: 'client' | 'worker';
  readonly submitter: string;
  readonly description?: string;
  readonly model: ModelSpec;
  readonly rounds: number;
  readonly targetAccuracy?: number;
  readonly dataset: { readonly source: DatasetSpec; readonly partition: PartitionSpec; readonly distributor?: string; readonly shard?: { readonly index: number; readonly of: number } };
  /** The sheet's differential privacy, when its job has it (PROTOCOL.md §6.14). */
  readonly privacy?: PrivacySpec;
}

/** What a node reports about itself. */
export interface NodeStats {
  readonly peerId: string;
  readonly messagesSent: number;
  readonly gossipBytesSent: number;
  readonly blobBytesFetched: number;
  /** Blob bytes fetched over direct connections (LAN, public, hole-punched) and over relays. */
  readonly blobBytesDirect: number;
  readonly blobBytesRelayed: number;
  readonly rejected: number;
  readonly rssBytes: number;
  readonly maxRssBytes: number;
}

/** One job as this node sees it. */
export interface NodeJobStatus {
  readonly rootId: string;
  readonly name: string;
  readonly member: string;
  readonly roles: { role: string; job: string }[];
  readonly finished: boolean;
}

/**
 * A Canopy peer: one libp2p node, a node store, a compute backend, a consent mode, and one
 * {@link JobRunner} per job tree it takes part in. Jobs arrive by submission (this node is
 * the root host) or by announcement (a root host names this node in a manifest), and are
 * resumed from disk after a restart. See docs/PROTOCOL.md, "Job submission and discovery".
 */
export class CanopyNode {
  readonly events = new TypedEmitter<CanopyNodeEvents>();
  readonly store: NodeStore;
  private libp2pNode: CanopyLibp2p | undefined;
  private blobPlane: BlobPlane | undefined;
  private compute: ComputeBackend | undefined;
  private idleGate: IdleGate | undefined;
  private ownerIsActive = false;
  private announceChannel: GossipChannel<Announce> | undefined;
  private announceTimer: NodeJS.Timeout | undefined;
  private rssTimer: NodeJS.Timeout | undefined;
  private readonly runners = new Map<string, JobRunner>();
  private readonly records = new Map<string, { record: RuntimeRecord; opened: OpenedSubmission }>();
  private readonly pending = new Set<string>();
  private readonly notMine = new Set<string>();
  // Jobs this node takes no part in whose members its relay carries (relayForSubmitters).
  private readonly vouched = new Map<string, OpenedSubmission>();
  private readonly counters: TrafficCounters = { messagesSent: 0, gossipBytesSent: 0, rejected: 0 };
  private readonly log: Log;
  private maxRss = 0;
  private startedAt = 0;
  private lastReachability = '';
  private reachTimer: NodeJS.Timeout | undefined;
  private network: Network | undefined;
  private nextRejoin = 0;
  private warnedStranded = false;
  private readonly relayRefusals = new Set<string>();
  private readonly slotBackoff = new Map<string, { at: number; delay: number }>();
  /** Set while started: background resumes stop when it changes. */
  private runningSince: number | undefined;

  constructor(readonly options: CanopyNodeOptions) {
    this.log = options.log ?? createLog('node');
    // A stored file that fails its check is moved aside and never used; say where it went.
    this.store = new NodeStore(options.dataDir, undefined, {
      onCorrupt: (r) => this.log.error({ path: r.path, quarantinedTo: r.quarantinedTo, problem: r.problem }, 'corrupt file quarantined'),
    });
  }

  get libp2p(): CanopyLibp2p {
    if (!this.libp2pNode) throw new Error('the node is not started');
    return this.libp2pNode;
  }

  get peerId(): string {
    return this.libp2p.peerId.toString();
  }

  /** Listening addresses with /p2p/<peer id>. */
  multiaddrs(): string[] {
    return this.libp2p.getMultiaddrs().map((a) => a.toString());
  }

  /**
   * How others can reach this node now: `public` once AutoNAT confirmed a public address,
   * `relayed` while it holds a relay reservation instead, `unreachable` when neither came
   * within {@link UNREACHABLE_AFTER_MS} of start (NAT traversal on), `unknown` before that.
   */
  reachability(): Reachability {
    return reachabilityOf(this.libp2p, { gaveUp: !!this.options.nat && Date.now() - this.startedAt > UNREACHABLE_AFTER_MS });
  }


  /**
   * Joins a network: dials its bootstrap peers and relays (a node behind NAT reserves a slot
   * on the relays it reaches). Logs a warning per peer it cannot reach, and rejects with a
   * one-line {@link NetworkJoinError} when it reaches none of them.
   */
  async joinNetwork(n: Network, opts: { signal?: AbortSignal } = {}): Promise<void> {
    this.network = n;
    await joinNetwork(this.libp2p, n, { log: this.log, ...opts });
    // A NATed node reserves a slot on each relay the network names (a public one needs none:
    // reachability() says which it is once AutoNAT has decided, and slots are cheap meanwhile).
    const nat = typeof this.options.nat === 'object' ? this.options.nat : this.options.nat ? {} : undefined;
    if (nat && nat.relayServer !== 'on' && n.relays) void this.reserveSlots(n.relays);
  }

  get blobs(): BlobPlane {
    if (!this.blobPlane) throw new Error('the node is not started');
    return this.blobPlane;
  }

  /** Starts libp2p, serves blobs and submissions, listens for announcements, and resumes stored jobs. */
  async start(): Promise<void> {
    const o = this.options;
    const { privateKey } = await loadOrCreateIdentity(o.dataDir);
    const nat = o.nat === true ? {} : o.nat || undefined;
    this.startedAt = Date.now();
    this.libp2pNode = await createCanopyNode({
      privateKey,
      ...(o.listen ? { listen: o.listen } : {}),
      ...(o.announce ? { announce: o.announce } : {}),
      nat: nat ? { ...nat, relayPolicy: { unlimited: (src, dst) => this.shareAJob(src, dst) } } : false,
      ...(o.bootstrap ? { bootstrap: o.bootstrap } : {}),
      mdns: o.mdns ?? false,
      loopbackCluster: o.loopbackCluster ?? false,
      inMemory: o.inMemory ?? false,
    });
    this.blobPlane = new BlobPlane(this.libp2pNode, this.store.blobs, this.log);
    this.blobPlane.setPolicy({ isMember: (peer) => this.isMemberOfAJob(peer), isPublic: (hash) => this.isPublicBlob(hash) });
    await this.blobPlane.start();
    const backend = typeof o.compute === 'object' ? o.compute : o.compute === 'synthetic' ? syntheticCompute({ trainMs: o.syntheticTrainMs ?? 0, ...(o.syntheticParams ? { params: o.syntheticParams } : {}) }) : mlCompute({ threads: o.computeThreads ?? 1, backend: o.backend ?? 'auto' });
    this.idleGate = new IdleGate(backend, { ownerActive: this.ownerIsActive, onChange: (s) => this.events.emit('owner:activity', s) });
    this.compute = this.idleGate;
    await serveSubmissions(this.libp2pNode, (raw, from) => this.acceptSubmission(raw, from));
    this.announceChannel = openAnnounceChannel({
      libp2p: this.libp2pNode,
      onAnnounce: (a, from) => this.onAnnounce(a, from),
      onReject: (reason, from) => {
        this.counters.rejected++;
        this.log.warn({ from, reason }, 'announcement rejected');
      },
    });
    this.runningSince = Date.now();
    await this.resumeJobs();
    this.announceTimer = setInterval(() => this.announce(), o.announceMs ?? 2000);
    this.rssTimer = setInterval(() => (this.maxRss = Math.max(this.maxRss, process.memoryUsage().rss)), 1000);
    this.rssTimer.unref();
    if (nat) {
      this.libp2pNode.addEventListener('self:peer:update', () => this.onAddressesChanged());
      this.reachTimer = setInterval(() => {
        this.onAddressesChanged();
        this.rejoinIfStranded();
      }, 5000);
      this.reachTimer.unref();
    }
    this.log.info({ peerId: this.peerId, addrs: this.multiaddrs(), compute: this.compute.kind, consent: o.consent?.kind ?? 'none' }, 'node started');
  }

  /** Stops every job runner, the compute backend and libp2p. Job state stays on disk. */
  async stop(): Promise<void> {
    this.runningSince = undefined;
    clearInterval(this.announceTimer);
    clearInterval(this.rssTimer);
    clearInterval(this.reachTimer);
    await Promise.all([...this.runners.values()].map((r) => r.stop()));
    this.runners.clear();
    this.announceChannel?.stop();
    await this.compute?.stop();
    await this.libp2pNode?.stop();
    this.log.info({ ...this.stats() }, 'node stopped');
  }

  /**
   * The desktop app's "only while idle" limit: while the owner is active, new training and
   * evaluation tasks wait (see IdleGate); `owner:activity` reports each change. Stopping the
   * node ends the wait with an error. May be called before `start`.
   */
  setOwnerActive(active: boolean): void {
    this.ownerIsActive = active;
    this.idleGate?.setOwnerActive(active);
  }

  /** Whether the owner is using this computer (training and evaluation are paused), as last set. */
  get ownerActive(): boolean {
    return this.ownerIsActive;
  }

  /** Traffic and memory so far. */
  stats(): NodeStats {
    const rss = process.memoryUsage().rss;
    this.maxRss = Math.max(this.maxRss, rss);
    return {
      peerId: this.libp2pNode?.peerId.toString() ?? '',
      messagesSent: this.counters.messagesSent,
      gossipBytesSent: this.counters.gossipBytesSent,
      blobBytesFetched: this.blobPlane?.bytesFetched ?? 0,
      blobBytesDirect: (this.blobPlane?.bytesFetched ?? 0) - (this.blobPlane?.bytesFetchedRelayed ?? 0),
      blobBytesRelayed: this.blobPlane?.bytesFetchedRelayed ?? 0,
      rejected: this.counters.rejected,
      rssBytes: rss,
      maxRssBytes: this.maxRss,
    };
  }

  /** Bytes of complete blobs in this node's store (for status lines). */
  async storeBytes(): Promise<number> {
    return (await this.store.blobs.list()).reduce((n, b) => n + b.size, 0);
  }

  private get retention(): RetentionPolicy {
    return { ...DEFAULT_RETENTION, ...this.options.retention };
  }

  /** The jobs this node takes part in. */
  jobs(): NodeJobStatus[] {
    return [...this.records.entries()].map(([rootId, { record, opened }]) => {
      const runner = this.runners.get(rootId);
      return { rootId, name: opened.tree.root, member: opened.peers.memberOf(this.peerId), roles: runner?.roles() ?? [], finished: record.finished || (runner?.finished ?? false) };
    });
  }

  /** The runner of a job tree (tests and status reports). */
  runner(rootId: string): JobRunner | undefined {
    return this.runners.get(rootId);
  }

  /**
   * Accepts a signed submission for which this node is the root host: checks it, stores it
   * as a blob (members fetch it from here), and starts the job. Resubmitting is idempotent.
   */
  async acceptSubmission(raw: unknown, from?: PeerId): Promise<SubmitReply> {
    try {
      const opened = await openSubmission(raw, 'submission');
      const { tree, peers } = opened;
      if (peers.peerOf(tree.manifest.cluster.host) !== this.peerId) {
        return { ok: false, error: `this node (${this.peerId}) is not the root host ${tree.manifest.cluster.host} (${peers.peerOf(tree.manifest.cluster.host)}); send the job to that peer` };
      }
      if (this.records.has(tree.rootId)) return { ok: true, rootId: tree.rootId, name: tree.root, resubmitted: true };
      const ref = await this.blobs.putJson(opened.submission);
      this.log.info({ rootId: tree.rootId, submitter: opened.submission.submitter, from: from?.toString() }, 'job submitted');
      await this.adopt(opened, ref, false);
      this.announce();
      return { ok: true, rootId: tree.rootId, name: tree.root, resubmitted: false };
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'submission refused');
      return { ok: false, error: (err as Error).message };
    }
  }

  private async onAnnounce(a: Announce, from: string): Promise<void> {
    if (this.records.has(a.rootId) || this.pending.has(a.rootId) || this.notMine.has(a.rootId)) return;
    this.pending.add(a.rootId);
    this.log.debug({ rootId: a.rootId, from }, 'job announced');
    try {
      await this.locate(from);
      if (!(await this.blobs.fetch(a.submission, [from], { maxBytes: MAX_SUBMISSION_BYTES }))) return;
      const raw = await this.blobs.getJson(a.submission.hash);
      // Corrupt here (now quarantined) or gone: the next announcement fetches it again.
      if (raw === undefined) return;
      const opened = await openSubmission(raw, `announced job ${a.rootId}`);
      const { tree, peers } = opened;
      // Only the manifest's root host may announce its job.
      if (tree.rootId !== a.rootId || peers.peerOf(tree.manifest.cluster.host) !== from) {
        this.log.warn({ rootId: a.rootId, from }, 'announcement by a peer that is not the job\'s root host; ignored');
        this.notMine.add(a.rootId);
        return;
      }
      this.vouchFor(opened);
      const roles = rolesOf(tree, peers.memberOf(this.peerId));
      if (roles.length === 0) {
        this.notMine.add(a.rootId);
        return;
      }
      if (!(await this.accepted(opened, roles))) {
        this.log.info({ rootId: a.rootId }, 'job declined by the owner');
        this.notMine.add(a.rootId);
        return;
      }
      await this.adopt(opened, a.submission, false);
    } catch (err) {
      this.log.warn({ rootId: a.rootId, err: (err as Error).message }, 'announced job refused');
      this.notMine.add(a.rootId);
    } finally {
      this.pending.delete(a.rootId);
    }
  }

  // Offers each client and worker role to the owner, when the node has one to ask.
  private async accepted(opened: OpenedSubmission, roles: { role: string; job: string }[]): Promise<boolean> {
    const invite = this.options.invite;
    if (!invite) return true;
    const { tree, peers, submission } = opened;
    const me = peers.memberOf(this.peerId);
    const m = tree.manifest;
    const asks = roles.flatMap(({ role, job }) => {
      if (role !== 'client' && role !== 'worker') return [];
      const sheet = deriveJobSheet(tree, job, role, me);
      const d = sheet.dataset;
      return [
        invite({
          rootId: tree.rootId,
          job,
          role,
          submitter: submission.submitter,
          ...(m.description === undefined ? {} : { description: m.description }),
          model: sheet.model,
          rounds: sheet.stop.rounds,
          ...(sheet.stop.targetAccuracy === undefined ? {} : { targetAccuracy: sheet.stop.targetAccuracy }),
          dataset: { source: d.source, partition: d.partition, ...(d.distributor === undefined ? {} : { distributor: peers.peerOf(d.distributor) }), ...(d.shard ? { shard: d.shard } : {}) },
          ...(sheet.privacy ? { privacy: sheet.privacy } : {}),
        }).catch(() => false),
      ];
    });
    return (await Promise.all(asks)).every(Boolean);
  }

  /**
   * Withdraws this node from `job` of the job tree `rootId` (its owner revoked consent): see
   * {@link JobRunner.withdraw}. Resolves whether the node was taking part in it.
   */
  withdraw(rootId: string, job: string, reason: string): boolean {
    return this.runners.get(rootId)?.withdraw(job, reason) ?? false;
  }

  private async adopt(opened: OpenedSubmission, ref: BlobRef, resumed: boolean, record?: RuntimeRecord): Promise<void> {
    const { tree, peers } = opened;
    // PROTOCOL.md §13: a job that names its parameter format runs only on nodes that write it.
    const wanted = tree.manifest.parameterFormat;
    const mine = this.compute!.kind === 'synthetic' ? 'cnsy' : 'cnpy';
    if (wanted !== undefined && wanted !== mine) {
      throw new BadInputError(`job ${tree.root} uses parameter format ${wanted}, but this node's compute (${this.compute!.kind}) writes ${mine}; run it with --compute ${wanted === 'cnsy' ? 'synthetic' : 'ml'}`);
    }
    const me = peers.memberOf(this.peerId);
    const rec: RuntimeRecord = record ?? { submission: ref, finished: false, final: null, reason: null };
    if (!record) await this.store.saveState(tree.rootId, RUNTIME_RECORD, rec);
    this.records.set(tree.rootId, { record: rec, opened });
    if (rec.finished) {
      this.releaseFinishedLater(tree.rootId, new Set([ref.hash, manifestBlob(tree).ref.hash, ...(rec.final ? [rec.final.hash] : [])]));
      return;
    }
    const runner = new JobRunner({
      libp2p: this.libp2p,
      store: this.store,
      opened,
      submissionRef: ref,
      me,
      log: this.log.child({ rootId: tree.rootId, member: me }),
      counters: this.counters,
      ...(this.options.datasets ? { datasets: this.options.datasets } : {}),
      ...(this.options.machineSeed ? { machineSeed: this.options.machineSeed } : {}),
      locate: (peer) => this.locate(peer),
      retention: this.retention,
      heldElsewhere: (hash) => [...this.runners].some(([id, r]) => id !== tree.rootId && r.holdsBlob(hash)),
      env: {
        blobs: this.blobs,
        compute: this.compute!,
        consent: this.options.consent ?? { kind: 'none' },
        ledger: new ConsentLedger(this.store),
        events: this.events,
        ...(this.options.localDataset ? { localDataset: this.options.localDataset } : {}),
        maxDataBytes: this.options.maxDataBytes ?? 512 << 20,
      },
    });
    this.runners.set(tree.rootId, runner);
    // Members named by peer id alone may sit behind NAT: offer their relay addresses to dial.
    for (const member of membersOf(tree)) void this.locate(peers.peerOf(member));
    this.events.on('job:finished', (d) => {
      if (d.rootId !== tree.rootId) return;
      this.records.set(tree.rootId, { record: { submission: ref, finished: true, final: d.final, reason: d.reason }, opened });
      // Retention: a finished job's parameter blobs go after a grace period, its final model stays.
      setTimeout(() => runner.releaseBlobs(), this.retention.finishedGraceMs).unref();
    });
    await runner.start();
    // Per job, what each of its roles here restarted from (a checkpoint, or nothing).
    this.log.info({ rootId: tree.rootId, member: me, roles: runner.roles(), resumed, ...(resumed ? { resumedFrom: runner.resumedFrom } : {}) }, resumed ? 'job resumed' : 'job started');
    this.events.emit('job:started', { rootId: tree.rootId, name: tree.root, member: me, roles: runner.roles(), resumed });
  }

  // Retention survives a restart: a job that finished before it still loses its parameter
  // blobs (all but its final model) once the grace period has passed again.
  private releaseFinishedLater(rootId: string, keep: ReadonlySet<string>): void {
    const since = this.runningSince;
    setTimeout(() => {
      if (this.runningSince !== since) return;
      releaseStoredJobBlobs(this.store, rootId, keep, (hash) => [...this.runners.values()].some((r) => r.holdsBlob(hash))).then(
        (removed) => {
          if (removed > 0) this.log.info({ rootId, removed }, 'parameter blobs of a finished job removed after its grace period');
        },
        (err: Error) => this.log.warn({ rootId, err: err.message }, 'could not remove the parameter blobs of a finished job'),
      );
    }, this.retention.finishedGraceMs).unref();
  }

  private async resumeJobs(): Promise<void> {
    for (const dir of await this.store.jobs()) {
      let record: RuntimeRecord | undefined;
      try {
        record = await this.store.loadState<RuntimeRecord>(dir, RUNTIME_RECORD);
      } catch (err) {
        // Quarantined and logged by the store; a member is brought back by the next announcement.
        this.log.error({ job: dir, err: (err as Error).message }, 'cannot resume a stored job: its runtime record is unreadable; as a member it rejoins when the job is next announced, as the root host it cannot');
        continue;
      }
      if (!record) continue;
      if (record.finished) this.log.info({ rootId: dir, reason: record.reason }, 'stored job already finished');
      if (!(await this.resumeStoredJob(dir, record, 1))) void this.retryResume(dir, record);
    }
  }

  // Logs each change of reachability, and keeps the DHT in client mode while this node is
  // reachable only through relays (answering DHT queries would make others dial it in vain).
  private onAddressesChanged(): void {
    const r = this.reachability();
    const key = `${r.status} ${r.relays.join(',')}`;
    if (key === this.lastReachability) return;
    this.lastReachability = key;
    this.log.info({ reachability: r.status, relays: r.relays, addrs: r.addresses, sinceStartMs: Date.now() - this.startedAt }, 'reachability');
    this.events.emit('node:reachability', r);
    const dht = this.libp2p.services.dht;
    if (dht) void dht.setMode(r.status === 'relayed' ? 'client' : 'server').catch(() => undefined);
  }

  private vouchFor(opened: OpenedSubmission): void {
    const nat = typeof this.options.nat === 'object' ? this.options.nat : undefined;
    if (!nat?.relayForSubmitters?.includes(opened.submission.submitter)) return;
    this.vouched.set(opened.tree.rootId, opened);
    // Bounded: the oldest vouched job goes first.
    if (this.vouched.size > 256) this.vouched.delete(this.vouched.keys().next().value!);
    this.log.info({ rootId: opened.tree.rootId, submitter: opened.submission.submitter }, 'relaying for the members of a vouched job');
  }

  private readonly locating = new Map<string, Promise<void>>();

  /**
   * Makes sure this node knows a way to dial `peer` (a member named by peer id alone): nothing
   * to do when connected or when a direct address is known; otherwise a peer-routing lookup
   * (the DHT), and when that finds nothing, the peer's would-be addresses through the network's
   * relays (a peer behind NAT is reachable that way once it holds a slot there).
   */
  locate(peer: string): Promise<void> {
    if (peer === this.peerId || !this.libp2pNode) return Promise.resolve();
    const running = this.locating.get(peer);
    if (running) return running;
    const p = this.locateOnce(peer).finally(() => this.locating.delete(peer));
    this.locating.set(peer, p);
    return p;
  }

  private async locateOnce(peer: string): Promise<void> {
    let id;
    try {
      id = peerIdFromString(peer);
    } catch {
      return;
    }
    const libp2p = this.libp2p;
    if (libp2p.getConnections(id).length > 0) return;
    const known = await libp2p.peerStore.get(id).catch(() => undefined);
    if (known?.addresses.some((a) => !a.multiaddr.toString().includes('/p2p-circuit'))) return;
    try {
      const found = await libp2p.peerRouting.findPeer(id, { signal: AbortSignal.timeout(LOOKUP_TIMEOUT_MS) });
      if (found.multiaddrs.length > 0) {
        await libp2p.peerStore.merge(id, { multiaddrs: found.multiaddrs });
        return;
      }
    } catch {
      // Not found (or no peer routing): fall back to the network's relays.
    }
    await this.hintRelayAddresses(id);
  }

  // The peer's would-be address through each relay of the network (`<relay>/p2p-circuit/p2p/<peer>`).
  private async hintRelayAddresses(id: PeerId): Promise<void> {
    const n = this.network;
    const peer = id.toString();
    if (!n) return;
    const hints = (n.relays ?? n.bootstrap).filter((r) => peerOfAddress(r) !== peer).map((r) => multiaddr(`${r}/p2p-circuit/p2p/${peer}`));
    if (hints.length > 0) await this.libp2p.peerStore.merge(id, { multiaddrs: hints }).catch(() => undefined);
  }
  // A node with neither a public address nor a relay slot says so once (peers at other homes
  // cannot reach it), and every 20 s redials its network's relays and asks each for a slot: a
  // relay that refused (not public yet, full) may accept later, and one that died is replaced.
  private rejoinIfStranded(): void {
    const n = this.network;
    const nat = typeof this.options.nat === 'object' ? this.options.nat : undefined;
    if (!n || nat?.relayServer === 'on' || Date.now() < this.nextRejoin) return;
    const r = this.reachability();
    if (r.status === 'public' || r.relays.length > 0 || Date.now() - this.startedAt < 15_000) return;
    this.nextRejoin = Date.now() + 20_000;
    const relays = (n.relays ?? n.bootstrap).filter((a) => peerOfAddress(a) !== this.peerId);
    // The network's only relay is this node itself (its first public node): nothing to join.
    if (relays.length === 0) return;
    if (!this.warnedStranded) {
      this.warnedStranded = true;
      this.log.warn(
        { network: n.name, relays: relays.length },
        'no public address and no relay slot yet: peers outside this LAN cannot reach this node. A relay refuses slots while it is not publicly reachable or is full; check that the network file names a relay that runs with --relay on (or forward a port and use --announce). Retrying every 20 s',
      );
    } else {
      this.log.debug({ network: n.name }, 'no relay slot yet; asking the network\'s relays again');
    }
    void joinNetwork(this.libp2p, n, { log: this.log })
      .then(() => this.reserveSlots(relays))
      .catch((err: Error) => this.log.warn({ network: n.name, err: err.message }, 'could not reach the network\'s relays; will try again'));
  }

  // Asks each of these relays for a slot; a refusal is a warning naming the relay and its answer (once per answer).
  private async reserveSlots(relays: readonly string[]): Promise<void> {
    await Promise.all(
      relays.map(async (addr) => {
        const id = peerOfAddress(addr);
        if (!id || id === this.peerId || this.reachability().relays.includes(id)) return;
        // A relay that refused is asked again after 20 s, doubling up to 10 min (each ask leaves libp2p an idle listener).
        const backoff = this.slotBackoff.get(id);
        if (backoff && Date.now() < backoff.at) return;
        try {
          await reserveRelaySlot(this.libp2p, addr);
          this.slotBackoff.delete(id);
        } catch (err) {
          const delay = Math.min((backoff?.delay ?? 10_000) * 2, 600_000);
          this.slotBackoff.set(id, { at: Date.now() + delay, delay });
          const reason = (err as Error).message.split('\n')[0]!;
          const key = `${id} ${reason}`;
          if (this.relayRefusals.has(key)) return;
          this.relayRefusals.add(key);
          this.log.warn({ relay: addr, err: reason }, 'a relay of the network gave this node no slot; peers behind other NATs reach it only through another relay. If this persists, ask the relay\'s owner (it must be publicly reachable and run with --relay on or auto)');
        }
      }),
    );
  }

  /** Whether two peers are members of one job this node takes part in or vouches for (its relay carries them without limits). */
  private shareAJob(a: string, b: string): boolean {
    for (const opened of [...[...this.records.values()].map((r) => r.opened), ...this.vouched.values()]) {
      const members = membersOf(opened.tree);
      if (members.has(opened.peers.memberOf(a)) && members.has(opened.peers.memberOf(b))) return true;
    }
    return false;
  }

  // The submission is in the blob store. If it is gone or corrupt (quarantined on read), it is
  // fetched again from the peers this node reaches (members of the job serve it), retried
  // with backoff while the node runs; until then the job waits and the log says why.
  private async retryResume(dir: string, record: RuntimeRecord): Promise<void> {
    const since = this.runningSince;
    for (let attempt = 2; since !== undefined && this.runningSince === since; attempt++) {
      await new Promise((r) => setTimeout(r, Math.min(15_000, 500 * attempt)).unref());
      if (this.runningSince !== since || (await this.resumeStoredJob(dir, record, attempt))) return;
    }
  }

  // One try at resuming a stored job; false when its submission is not here (yet).
  private async resumeStoredJob(dir: string, record: RuntimeRecord, attempt: number): Promise<boolean> {
    let raw = await this.blobs.getJson(record.submission.hash);
    let refetched = false;
    if (raw === undefined) {
      const peers = this.libp2p.getPeers().map((p) => p.toString());
      if (await this.blobs.fetch(record.submission, peers, { maxBytes: MAX_SUBMISSION_BYTES })) {
        raw = await this.blobs.getJson(record.submission.hash);
        refetched = raw !== undefined;
      }
    }
    if (raw === undefined) {
      if (attempt === 1 || attempt % 20 === 0) {
        this.log.error({ job: dir, submission: record.submission.hash, attempt }, 'cannot resume a stored job yet: its submission blob is missing or was corrupt, and no peer reached so far has it; retrying');
      }
      return false;
    }
    try {
      const opened = await openSubmission(raw, `stored job ${dir}`);
      // Said whenever it came from a peer, also at the first attempt (members may be connected already).
      if (refetched) this.log.info({ job: dir, attempts: attempt }, 'fetched the stored job\'s submission again from a peer');
      await this.adopt(opened, record.submission, true, record);
    } catch (err) {
      this.log.error({ job: dir, err: (err as Error).message }, 'could not resume a stored job');
    }
    return true;
  }

  /** Whether a peer is a member of any job this node has opened (it may fetch that job's blobs). */
  private isMemberOfAJob(peer: string): boolean {
    for (const { opened } of this.records.values()) {
      if (membersOf(opened.tree).has(opened.peers.memberOf(peer))) return true;
    }
    return false;
  }

  /** Blobs anyone may fetch: job submissions (discovery) and final results this node may hand out. */
  private isPublicBlob(hash: string): boolean {
    for (const rootId of this.records.keys()) {
      const { record } = this.records.get(rootId)!;
      if (record.submission.hash === hash) return true;
      if (this.downloadableFinal(rootId)?.hash === hash) return true;
    }
    return false;
  }

  /** The root's state of a job this node hosts at the root: whether it finished, and its final parameters. */
  private rootOutcome(rootId: string): { finished: boolean; final: BlobRef | null } | undefined {
    const entry = this.records.get(rootId);
    if (!entry) return undefined;
    const { tree, peers } = entry.opened;
    if (peers.peerOf(tree.manifest.cluster.host) !== this.peerId) return undefined;
    const live = this.runners.get(rootId)?.rootHostState();
    const finished = entry.record.finished || live?.processStage === 3;
    return { finished, final: finished ? (live?.global ?? entry.record.final ?? null) : null };
  }

  /**
   * The final parameters of a job this node hosts, when it may hand them to anyone: the job
   * finished, its manifest allows downloads, and, for an artifact, this node's owner opted in
   * to serving results (`serveResults`). Members of the job fetch from its workers as before.
   */
  private downloadableFinal(rootId: string): BlobRef | null {
    const outcome = this.rootOutcome(rootId);
    const manifest = this.records.get(rootId)?.opened.tree.manifest;
    if (!outcome?.finished || !outcome.final || !manifest?.allowModelDownload) return null;
    if (manifest.artifact !== undefined && this.options.serveResults !== true) return null;
    return outcome.final;
  }

  // Root hosts announce each job they host, finished ones included (so `canopy job model`
  // can find the final parameters), again and again: late or restarted peers catch up.
  private announce(): void {
    const ch = this.announceChannel;
    if (!ch) return;
    for (const [rootId, { record, opened }] of this.records) {
      const { tree } = opened;
      const outcome = this.rootOutcome(rootId);
      if (!outcome) continue;
      const live = this.runners.get(rootId)?.rootHostState();
      const finished = outcome.finished;
      const a: Announce = {
        v: 1,
        type: 'job',
        rootId,
        name: tree.root,
        submission: record.submission,
        host: this.peerId,
        round: live?.round ?? 0,
        processStage: finished ? 3 : (live?.processStage ?? 0),
        final: outcome.final,
        downloadable: this.downloadableFinal(rootId) !== null,
        stopReason: live?.stopReason ?? record.reason,
        metrics: live?.metrics ?? null,
      };
      void ch.publish(encodeAnnounce(a), { timeoutMs: 1000 }).catch(() => undefined);
    }
  }
}

const memberSets = new WeakMap<JobTree, ReadonlySet<string>>();

/** Every member of a job tree, computed once per tree. */
function membersOf(tree: JobTree): ReadonlySet<string> {
  let set = memberSets.get(tree);
  if (!set) {
    set = new Set(allMembers(tree));
    memberSets.set(tree, set);
  }
  return set;
}
