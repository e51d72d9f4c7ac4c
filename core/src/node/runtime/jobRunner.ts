import { randomBytes, randomInt } from 'node:crypto';
import { peerIdFromString } from '@libp2p/peer-id';
import { multiaddr } from '@multiformats/multiaddr';
import { createMachines, restoreHostMachine, restoreMemberMachine, stepMachine, viewOf, wantsMessage, type Machine } from '../../protocol/machines/index.js';
import { decodeJournal, journalBlobs, type MemberJournal } from '../../protocol/machines/memberJournal.js';
import type { Effect, EffectHandlers } from '../../protocol/effects.js';
import type { Input } from '../../protocol/inputs.js';
import { allMembers, type JobTree } from '../../protocol/jobTree.js';
import { encodeMessage, type BlobRef, type Message } from '../../protocol/messages/index.js';
import { validateMessage } from '../../protocol/validate/index.js';
import { GossipChannel } from '../../net/gossipChannel.js';
import type { CanopyLibp2p } from '../../net/createNode.js';
import { Rng } from '../../util/rng.js';
import type { Log } from '../../util/log.js';
import type { NodeStore } from '../../storage/nodeStore.js';
import { runAskConsent, runLoadDataset, runPrepareDataset } from './dataEffects.js';
import type { EffectEnv } from './effectEnv.js';
import type { OpenedSubmission } from './submission.js';
import { fetchGlobal, runAggregate, runEvaluate, runInitParams, runTrain } from './taskEffects.js';
import { globalProviders } from './providers.js';
import { scoreJobTopic } from './topicScore.js';
import { artifactCompute } from '../../compute/artifactCompute.js';
import { manifestBlob } from '../../protocol/machines/hostState.js';
import { BlobRetention, DEFAULT_RETENTION, RETENTION_RECORD, type RetentionPolicy } from './blobRetention.js';
import { regrantDatasetChunks } from './dataEffects.js';
import { InputsBlob } from './taskEffects.js';
import { replaceLimitedConnections } from '../../net/limitedConnections.js';

/** Traffic a node sent, summed over its jobs. */
export interface TrafficCounters {
  messagesSent: number;
  gossipBytesSent: number;
  rejected: number;
}

/** Where a job's runtime record lives in the node store. */
export const RUNTIME_RECORD = 'runtime';

/** The runtime record of a job on a node: enough to resume it after a restart. */
export interface RuntimeRecord {
  readonly submission: BlobRef;
  readonly finished: boolean;
  readonly final: BlobRef | null;
  readonly reason: string | null;
}

/** Everything a runner gets from its node. */
/** How long a member may stay unreachable before a warning says so. */
const UNREACHABLE_MEMBER_WARN_MS = 60_000;

export interface JobRunnerInit {
  readonly libp2p: CanopyLibp2p;
  readonly store: NodeStore;
  readonly opened: OpenedSubmission;
  readonly submissionRef: BlobRef;
  readonly me: string;
  readonly log: Log;
  readonly counters: TrafficCounters;
  /** Datasets the node's owner registered by name (`canopy node --dataset`), for artifacts. */
  readonly datasets?: ReadonlyMap<string, string>;
  /** Seeds each machine's random draws (client sampling) by its key; default: a random seed each. */
  readonly machineSeed?: (machineKey: string) => number;
  /** Finds a way to dial a member named by peer id alone (peer routing, then the network's relays). */
  readonly locate?: (peer: string) => Promise<void>;
  /** How long parameter blobs stay (default {@link DEFAULT_RETENTION}). */
  readonly retention?: RetentionPolicy;
  /** Whether another job on this node still uses a blob (then it is not removed). */
  readonly heldElsewhere?: (hash: string) => boolean;
  readonly env: Omit<EffectEnv, 'tree' | 'peers' | 'me' | 'submitter' | 'signal' | 'log' | 'ownerDatasets' | 'datasetIndexOf'>;
}

/**
 * The imperative shell for one job tree on one node (docs/PROTOCOL.md §8): it holds this
 * member's machines, one gossip channel per topic (validated by `validateMessage`), real
 * timers, and carries out every effect. Inputs are stepped one at a time, in order, so a
 * machine never sees two inputs at once; slow effects (training, fetching) run in the
 * background and come back as inputs.
 */
export class JobRunner {
  readonly tree: JobTree;
  private machines: Machine[] = [];
  private readonly channels = new Map<string, GossipChannel<Message>>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly rngs = new Map<string, Rng>();
  private readonly tasks: (() => Promise<void>)[] = [];
  private readonly doneKeys = new Set<string>();
  private readonly withdrawn = new Set<string>();
  private readonly abort = new AbortController();
  /** Per machine: aborted when it is withdrawn or the runner stops, and with it the machine's running tasks. */
  private readonly machineAborts = new Map<string, AbortController>();
  private readonly env: EffectEnv;
  private readonly trees: Map<string, JobTree>;
  private draining = false;
  private dialTimer: NodeJS.Timeout | undefined;
  private lingerTimer: NodeJS.Timeout | undefined;
  private persistChain: Promise<void> = Promise.resolve();
  /** Per host machine: its messages waiting for a blob they name (see publish). */
  private readonly hostOutbox = new Map<string, Promise<void>>();
  /** Per host machine and message type: the last parameter blob found held, so heartbeats do not re-check it. */
  private readonly heldBlob = new Map<string, string>();
  finished = false;
  private readonly retention: BlobRetention;
  private readonly finals = new Set<string>();
  private sweepChain: Promise<void> = Promise.resolve();
  private retentionChain: Promise<void> = Promise.resolve();
  private retentionSaved = 0;
  private journalChain: Promise<void> = Promise.resolve();
  private sweptAt = '';
  /** Parameter blobs this runner removed from the store (retention). */
  blobsRemoved = 0;
  /** What each machine was restored from at start (logged per job by the node). */
  readonly resumedFrom: { job: string; role: Machine['role']; from: string; skipped?: readonly { file: string; problem: string }[] }[] = [];

  constructor(private readonly init: JobRunnerInit) {
    this.tree = init.opened.tree;
    this.trees = new Map([[this.tree.rootId, this.tree]]);
    this.retention = new BlobRetention((init.retention ?? DEFAULT_RETENTION).keepRounds);
    // An artifact job computes with the artifact's backend, over the node's own (docs/ARTIFACTS.md).
    if (this.tree.manifest.artifact) init = { ...init, env: { ...init.env, compute: artifactCompute({ tree: this.tree, inner: init.env.compute, datasets: init.datasets ?? new Map() }) } };
    this.env = {
      ...init.env,
      tree: this.tree,
      peers: init.opened.peers,
      me: init.me,
      submitter: init.opened.submission.submitter,
      signal: this.abort.signal,
      log: init.log,
      ownerDatasets: new Map(),
      datasetIndexOf: (job) => {
        const m = this.machines.find((x) => x.role === 'client' && x.job === job);
        return m?.state.role === 'client' ? m.state.datasetIndex : null;
      },
    };
  }

  /** The roles this member plays. */
  roles(): { role: Machine['role']; job: string }[] {
    return this.machines.map((m) => ({ role: m.role, job: m.job }));
  }

  /** Creates (or restores, for hosts with a checkpoint) the machines, subscribes, and starts them. */
  async start(): Promise<void> {
    const now = Date.now();
    const machines = createMachines(this.tree, this.init.me, now);
    await this.loadRetention();
    for (const [i, m] of machines.entries()) {
      if (m.role !== 'host') {
        machines[i] = await this.restoreMember(m, now);
        continue;
      }
      const { restored, skipped } = await this.init.store.restoreCheckpoint(checkpointKey(this.tree, m.job), (cp) => restoreHostMachine(this.tree, cp, now));
      if (restored) {
        machines[i] = restored.value;
        this.resumedFrom.push({ job: m.job, role: 'host', from: `checkpoint of round ${restored.from.round} (${restored.from.file})`, ...(skipped.length > 0 ? { skipped } : {}) });
        // §6.8: an older checkpoint is still one this host made durable before publishing it.
        if (skipped.length > 0) this.init.log.warn({ job: m.job, round: restored.from.round, file: restored.from.file, skipped }, 'newer checkpoints were unusable; the host restored from an older one');
        this.init.log.info({ job: m.job, round: restored.from.round, file: restored.from.file }, 'host restored from its checkpoint');
      } else if (skipped.length > 0) {
        this.resumedFrom.push({ job: m.job, role: 'host', from: 'nothing: every checkpoint was unusable', skipped });
        this.init.log.error({ job: m.job, skipped }, 'no checkpoint of this host is usable: it starts the job afresh, and ends it with that reason if its members report a later round (§6.8)');
      } else {
        this.resumedFrom.push({ job: m.job, role: 'host', from: 'nothing stored: it starts the job' });
      }
    }
    this.machines = machines;
    for (const m of machines) this.rngs.set(m.key, Rng.fromSeed(this.init.machineSeed?.(m.key) ?? randomInt(2 ** 31)));
    for (const topic of new Set(machines.flatMap((m) => m.topics))) this.openChannel(topic);
    this.connectMembers();
    this.dialTimer = setInterval(() => this.connectMembers(), 5000);
    this.dialTimer.unref();
    for (const m of machines) this.feed(m.key, { type: 'start' });
  }

  /** Stops timers and channels; background tasks see an aborted signal. */
  async stop(): Promise<void> {
    this.abort.abort();
    for (const c of this.machineAborts.values()) c.abort();
    this.tasks.length = 0;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    clearInterval(this.dialTimer);
    clearTimeout(this.lingerTimer);
    for (const ch of this.channels.values()) ch.stop();
    this.channels.clear();
    await this.persistChain;
    await this.journalChain;
    await this.retentionChain;
  }

  // §6.15: a client, worker or distributor resumes from its journal, if it has one it can
  // use: readable, of a shape this version knows, and naming blobs still stored intact.
  // Otherwise it starts afresh (as without a journal) and the log says why.
  private async restoreMember(m: Machine, now: number): Promise<Machine> {
    const role = m.role as MemberJournal['role'];
    const fresh = (from: string): Machine => {
      this.resumedFrom.push({ job: m.job, role: m.role, from });
      return m;
    };
    let raw: unknown;
    try {
      raw = await this.init.store.loadState(checkpointKey(this.tree, m.job), journalName(role));
    } catch (err) {
      this.init.log.error({ job: m.job, role, err: (err as Error).message }, 'this member\'s journal is unreadable (quarantined): it rejoins the round afresh');
      return fresh('nothing: its journal was unreadable; it rejoins the round its host announces');
    }
    if (raw === undefined) return fresh('nothing stored: it rejoins the round its host announces');
    let journal: MemberJournal;
    let restored: Machine;
    try {
      journal = decodeJournal(role, raw);
      restored = restoreMemberMachine(this.tree, role, m.job, this.init.me, raw, now);
    } catch (err) {
      this.init.log.error({ job: m.job, role, err: (err as Error).message }, 'this member\'s journal cannot be used: it rejoins the round afresh');
      return fresh(`nothing: ${(err as Error).message}`);
    }
    for (const ref of journalBlobs(journal)) {
      if (await this.env.blobs.store.has(ref.hash)) continue;
      this.init.log.warn({ job: m.job, role, blob: ref.hash }, 'a blob this member\'s journal names is missing or was corrupt: it redoes its part of the round');
      return fresh(`nothing: blob ${ref.hash.slice(0, 12)}… of its journal is gone; it rejoins the round its host announces`);
    }
    if (journal.role === 'distributor' && journal.indexes) {
      // Each chunk is served to its client alone again; a chunk lost means preparing anew.
      const problem = await regrantDatasetChunks(this.env, journal.indexes);
      if (problem) {
        this.init.log.warn({ job: m.job, role, problem }, 'a dataset chunk of the distributor\'s journal is unusable: it prepares the dataset again');
        return fresh(`nothing: ${problem}; it prepares the dataset again`);
      }
    }
    const from = describeJournal(journal);
    this.init.log.info({ job: m.job, role, from }, 'member restored from its journal');
    this.resumedFrom.push({ job: m.job, role: m.role, from });
    return restored;
  }

  // Retention notes made before a restart (PROTOCOL.md §6.15 / CLI.md "Retention").
  private async loadRetention(): Promise<void> {
    try {
      const table = await this.init.store.loadState(this.tree.rootId, RETENTION_RECORD);
      if (table === undefined) return;
      const skipped = this.retention.load(table);
      if (skipped > 0) this.init.log.warn({ skipped }, 'rows of the stored retention table were malformed and skipped: their blobs stay on disk');
      this.retentionSaved = this.retention.changes;
    } catch (err) {
      this.init.log.error({ err: (err as Error).message }, 'the stored retention table is unreadable (quarantined): blobs noted before this restart stay on disk');
    }
  }

  // Saves the retention table when it changed; writes coalesce, and a failure only logs (the
  // table is rebuilt by the next change; what it misses stays on disk, it is never lost data).
  private saveRetention(): void {
    if (this.retention.changes === this.retentionSaved) return;
    this.retentionChain = this.retentionChain.then(async () => {
      const at = this.retention.changes;
      if (at === this.retentionSaved) return;
      this.retentionSaved = at;
      await this.init.store.saveState(this.tree.rootId, RETENTION_RECORD, this.retention.toJSON()).catch((err: Error) => {
        this.retentionSaved = -1;
        this.init.log.warn({ err: err.message, code: (err as NodeJS.ErrnoException).code }, 'could not save the retention table; retrying on its next change');
      });
    });
  }

  // The journal write, awaited by the step (its publish waits). A failure is logged and the
  // step goes on: the protocol does not need the journal, a restart only redoes more.
  private async writeJournal(job: string, role: MemberJournal['role'], entry: unknown): Promise<void> {
    this.journalChain = this.journalChain.then(() =>
      this.init.store.saveState(checkpointKey(this.tree, job), journalName(role), entry).catch((err: Error) => {
        this.init.log.warn({ job, role, code: (err as NodeJS.ErrnoException).code, err: err.message }, 'journal write failed: after a restart this member would redo its part of the round');
      }),
    );
    return this.journalChain;
  }

  /** The root host's view of the job, if this node hosts the root (for announcements). */
  rootHostState(): { round: number; processStage: number; global: BlobRef | null; stopReason: string | null; metrics: { loss: number; accuracy: number; samples: number } | null } | undefined {
    const m = this.machines.find((x) => x.role === 'host' && x.job === this.tree.root);
    if (!m || m.state.role !== 'host') return undefined;
    const s = m.state;
    return { round: s.round, processStage: s.processStage, global: s.global, stopReason: s.stopReason, metrics: s.metrics };
  }

  /**
   * Withdraws this member's client and worker machines of `job` (its owner revoked consent):
   * from now on they take no input, so they send no heartbeat, ACK, vote or submission. A
   * task in flight is aborted (a training stops after its current batch). The protocol is
   * unchanged: the host counts the member offline after missed heartbeats and goes on with
   * its quorum. Returns whether any machine was withdrawn.
   */
  withdraw(job: string, reason: string): boolean {
    const mine = this.machines.filter((m) => m.job === job && (m.role === 'client' || m.role === 'worker') && !this.withdrawn.has(m.key));
    for (const m of mine) {
      this.withdrawn.add(m.key);
      // Its running training (or aggregation) stops after the current batch; the result was to be dropped anyway.
      this.machineAborts.get(m.key)?.abort();
      for (const [id, t] of this.timers) {
        if (!id.startsWith(`${m.key}|`)) continue;
        clearTimeout(t);
        this.timers.delete(id);
      }
    }
    if (mine.length === 0) return false;
    this.init.log.warn({ job, roles: mine.map((m) => m.role), reason }, 'withdrawn from the job');
    this.env.events.emit('job:withdrawn', { rootId: this.tree.rootId, job, reason });
    return true;
  }

  /** Whether this member withdrew from `job`. */
  isWithdrawn(job: string): boolean {
    return this.machines.some((m) => m.job === job && this.withdrawn.has(m.key));
  }

  /** Machines' states, for status reports and tests. */
  machineStates(): readonly Machine[] {
    return this.machines;
  }

  private openChannel(topic: string): void {
    const ch = new GossipChannel<Message>({
      pubsub: this.init.libp2p.services.pubsub,
      topic,
      maxQueue: 4096,
      validate: (from, data) => {
        // The wire names members; the signer is a peer id. Map it before the envelope rules.
        return validateMessage(data, { from: this.env.peers.memberOf(from), topic, trees: this.trees, view: (job) => viewOf(this.machines, job) });
      },
      onMessage: (message) => this.deliver(topic, message),
      onVerdict: (verdict, reason, from) => {
        if (verdict !== 'reject') return;
        this.init.counters.rejected++;
        this.init.log.warn({ topic, from, reason }, 'gossip message rejected');
        this.env.events.emit('message:rejected', { rootId: this.tree.rootId, topic, from, reason });
      },
    });
    scoreJobTopic(this.init.libp2p.services.pubsub, topic);
    ch.start();
    this.channels.set(topic, ch);
  }

  // Keep a connection to every member (bounded), re-dialling those that went away: a
  // restarted peer comes back at the same address with the same identity.
  private connectMembers(): void {
    const { libp2p } = this.init;
    const self = libp2p.peerId.toString();
    for (const member of allMembers(this.tree).slice(0, 256)) {
      const id = this.env.peers.peerOf(member);
      if (id === self) continue;
      let peerId;
      try {
        peerId = peerIdFromString(id);
      } catch {
        continue;
      }
      if (libp2p.getConnections(peerId).length > 0) {
        this.unreachableSince.delete(member);
        // Members need an unlimited connection; one opened before the relay knew the job is not.
        void replaceLimitedConnections(libp2p, peerId);
        continue;
      }
      const addrs = this.env.peers.addresses(member);
      void (async () => {
        if (addrs.length > 0) await libp2p.peerStore.merge(peerId, { multiaddrs: addrs.map((a) => multiaddr(a)) });
        else await this.init.locate?.(id);
        // A member named by peer id alone is looked up first (DHT, relays): give that time.
        await libp2p.dial(peerId, { signal: AbortSignal.timeout(addrs.length > 0 ? 5000 : 20_000) });
        this.unreachableSince.delete(member);
      })().catch((err: Error) => this.noteUnreachable(member, id, addrs.length > 0, err));
    }
  }

  // Members this node has failed to dial since (ms), and those it has warned about.
  private readonly unreachableSince = new Map<string, number>();
  private readonly warnedUnreachable = new Set<string>();

  // A member no dial has reached for a minute is worth one warning that says what to do.
  private noteUnreachable(member: string, peer: string, hadAddress: boolean, err: Error): void {
    const now = Date.now();
    const since = this.unreachableSince.get(member) ?? now;
    this.unreachableSince.set(member, since);
    if (now - since < UNREACHABLE_MEMBER_WARN_MS || this.warnedUnreachable.has(member)) return;
    this.warnedUnreachable.add(member);
    this.init.log.warn(
      { member, peer, err: err.message.split('\n')[0] },
      hadAddress
        ? 'cannot reach this member at the addresses the manifest gives; check that its node runs and its port is open (this node keeps trying)'
        : 'cannot find this member: no address in the manifest and no peer of the network knows one; ask its owner to start canopy node with the job\'s network (--network), or add its addresses to peers: (this node keeps trying)',
    );
  }

  private feed(key: string, input: Input): void {
    this.schedule(async () => {
      const m = this.machines.find((x) => x.key === key);
      if (m) await this.step(m, input);
    });
  }

  private deliver(topic: string, message: Message, exceptKey?: string): void {
    this.schedule(async () => {
      for (const m of this.machines) {
        if (m.key === exceptKey || !m.topics.includes(topic) || !wantsMessage(m, message.type, message.job)) continue;
        await this.step(m, { type: 'message', message });
      }
    });
  }

  private schedule(task: () => Promise<void>): void {
    if (this.abort.signal.aborted) return;
    this.tasks.push(task);
    if (!this.draining) void this.drain();
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.tasks.length > 0 && !this.abort.signal.aborted) {
        const task = this.tasks.shift()!;
        try {
          await task();
        } catch (err) {
          this.init.log.error({ err: (err as Error).stack ?? String(err) }, 'runtime task failed');
        }
      }
    } finally {
      this.draining = false;
    }
  }

  private async step(m: Machine, input: Input): Promise<void> {
    if (this.withdrawn.has(m.key)) return;
    let effects: Effect[];
    try {
      const r = stepMachine(m.state, input, { now: Date.now(), rng: this.rngs.get(m.key)!, secretBytes: randomBytesOf });
      m.state = r.state;
      effects = r.effects;
    } catch (err) {
      // A machine bug must not take the node down; the input is dropped and logged.
      this.init.log.error({ machine: m.key, input: input.type, err: (err as Error).stack }, 'machine step failed');
      return;
    }
    // In order: the host emits its checkpoint before anything it publishes (PROTOCOL.md §6.8).
    for (const e of effects) {
      this.noteEffect(m, e);
      await this.perform(m, e);
    }
    this.sweepOnNewRound();
    this.saveRetention();
  }

  /** The round a job is in, as this node's machines for it know it (0 before any). */
  roundOf(job: string): number {
    let round = 0;
    for (const x of this.machines) {
      if (x.job !== job) continue;
      const st = x.state as { role: string; round?: number; hostRound?: number };
      round = Math.max(round, st.role === 'host' ? (st.round ?? 0) : (st.hostRound ?? 0));
    }
    return round;
  }

  /** Whether this runner still uses a blob (retention: another job's runner asks before removing). */
  holdsBlob(hash: string): boolean {
    return this.retention.holds(hash, (job) => this.roundOf(job)) || this.keptBlobs().has(hash);
  }

  // Retention notes which round of which job used each parameter blob an effect names.
  private noteEffect(m: Machine, e: Effect): void {
    const note = (ref: BlobRef | null | undefined, round = this.roundOf(m.job)) => {
      if (ref) this.retention.note(ref.hash, m.job, round);
    };
    if (e.type === 'storeBlob' || e.type === 'fetchBlob') note(e.ref);
    else if (e.type === 'train') note(e.global, e.round);
    else if (e.type === 'evaluate') note(e.params, e.round);
    else if (e.type === 'aggregate') {
      note(e.inputs, e.round);
      note(e.base, e.round);
    } else if (e.type === 'publish' && m.role === 'host') {
      const p = e.message.payload as { global?: BlobRef | null; ref?: BlobRef; inputs?: BlobRef | null };
      note(p.global, e.message.round);
      note(p.ref, e.message.round);
      note(p.inputs, e.message.round);
    }
  }

  // What retention never removes: the submission, the manifest, final models, and every
  // blob a machine's state names now (a host's global and inputs, a parent's global, ...).
  private keptBlobs(): Set<string> {
    const keep = new Set<string>([this.init.submissionRef.hash, manifestBlob(this.tree).ref.hash, ...this.finals]);
    for (const x of this.machines) collectRefs(x.state, keep, 3);
    return keep;
  }

  // When any job's round moved on, removes the parameter blobs of rounds long past.
  private sweepOnNewRound(): void {
    const at = this.machines.map((x) => this.roundOf(x.job)).join(',');
    if (at === this.sweptAt) return;
    this.sweptAt = at;
    this.sweep(false);
  }

  /** Removes this job's parameter blobs but its final models (a finished job, after its grace period). */
  releaseBlobs(): void {
    this.sweep(true);
  }

  private sweep(all: boolean): void {
    const expired = this.retention.expire((job) => this.roundOf(job), this.keptBlobs(), all);
    if (expired.length === 0) return;
    this.sweepChain = this.sweepChain.then(async () => {
      let removed = 0;
      for (const hash of expired) {
        if (this.init.heldElsewhere?.(hash)) continue;
        await this.env.blobs.store.remove(hash).then(
          () => removed++,
          (err: Error) => this.init.log.warn({ hash: hash.slice(0, 12), err: err.message }, 'could not remove an expired blob'),
        );
      }
      this.blobsRemoved += removed;
      this.init.log.debug({ removed, all }, 'expired parameter blobs removed');
    });
    this.saveRetention();
  }

  private perform(m: Machine, e: Effect): void | Promise<void> {
    return (this.handlers[e.type] as (e: Effect, m: Machine) => void | Promise<void>)(e, m);
  }

  // One handler per effect type (PROTOCOL.md §8): a type missing here does not compile.
  private readonly handlers: EffectHandlers<[m: Machine], void | Promise<void>> = {
    publish: (e, m) => this.publish(m, e.topic, e.message),
    storeBlob: async (e) => {
      // Stored before the next effect runs, so the snapshot naming it can be served at once;
      // a write that fails (a full disk) is retried, and the step's publishing waits for it.
      const ref = await this.retryWrite('blob', { hash: e.ref.hash.slice(0, 12) }, () => this.env.blobs.putJson(e.value));
      if (ref && ref.hash !== e.ref.hash) this.init.log.error({ expected: e.ref.hash, got: ref.hash }, 'stored blob hash differs from the machine\'s');
    },
    setTimer: (e, m) => {
      const id = `${m.key}|${e.id}`;
      clearTimeout(this.timers.get(id));
      this.timers.set(id, setTimeout(() => {
        this.timers.delete(id);
        this.feed(m.key, { type: 'timer', id: e.id });
      }, Math.max(0, e.at - Date.now())));
    },
    cancelTimer: (e, m) => {
      const id = `${m.key}|${e.id}`;
      clearTimeout(this.timers.get(id));
      this.timers.delete(id);
    },
    journal: (e) => this.writeJournal(e.job, e.role, e.entry),
    persist: (e) => {
      const { round = 0, seq = 0 } = e.checkpoint as { round?: number; seq?: number };
      // Durable before anything else happens (§6.8): the rest of the step, its publishing
      // included, waits until the checkpoint is written, however many tries that takes.
      this.persistChain = this.persistChain.then(() => this.writeCheckpoint(e.job, round, seq, e.checkpoint));
      return this.persistChain;
    },
    emitMetric: (e) => {
      if (e.name === 'sheetRejected' || e.name === 'sheetMismatch') {
        // §4.3: an ACK that names another job sheet is not counted; both sides say why.
        const why = e.name === 'sheetRejected' ? 'REJECT ack: its job-sheet hash is not the one this host derives for that member' : 'this member\'s ACK was not counted: its job-sheet hash is not the one the host derives (another manifest, or a sheet derived differently)';
        this.init.log.warn({ metric: e.name, job: e.job, round: e.round, ...e.values }, why);
      }
      else this.init.log.info({ metric: e.name, job: e.job, round: e.round, ...e.values }, e.name === 'round' ? 'round finished' : `metric ${e.name}`);
      if (e.name === 'round') this.env.events.emit('round:finished', { rootId: this.tree.rootId, job: e.job, round: e.round, values: e.values });
      else this.env.events.emit('metric', { rootId: this.tree.rootId, name: e.name, job: e.job, round: e.round, values: e.values });
    },
    finished: (e, m) => this.onFinished(m, e.final, e.reason),
    fetchBlob: (e, m) => this.background(m, fetchGlobal(this.envOf(m), e)),
    train: (e, m) => this.background(m, runTrain(this.envOf(m), e)),
    evaluate: (e, m) => this.background(m, runEvaluate(this.envOf(m), e)),
    aggregate: (e, m) =>
      this.background(
        m,
        runAggregate(this.envOf(m), e).then(async (input) => {
          // The clients' updates it fetched belong to the round too.
          const entries = InputsBlob.safeParse(await this.env.blobs.getJson(e.inputs.hash));
          if (entries.success) for (const x of entries.data) this.retention.note(x.ref.hash, e.job, e.round);
          return input;
        }),
      ),
    initParams: (e, m) => this.background(m, runInitParams(this.envOf(m), e)),
    askConsent: (e, m) => this.background(m, runAskConsent(this.envOf(m), e)),
    loadDataset: (e, m) => this.background(m, runLoadDataset(this.envOf(m), e)),
    prepareDataset: (e, m) => this.background(m, runPrepareDataset(this.envOf(m), e)),
  };

  // Retries a failed checkpoint write (a full disk, a read-only or missing folder) with
  // backoff until it succeeds or the runner stops; logs the first failure, every tenth, and
  // the recovery.
  private async writeCheckpoint(job: string, round: number, seq: number, checkpoint: unknown): Promise<void> {
    await this.retryWrite('checkpoint', { job, round }, () => this.init.store.saveCheckpoint(checkpointKey(this.tree, job), round, checkpoint, seq));
  }

  // A write the rest of a step depends on, retried with backoff until it succeeds (its value)
  // or the runner stops (undefined). The first failure, every tenth and the recovery are logged.
  private async retryWrite<T>(what: 'checkpoint' | 'blob', fields: Record<string, unknown>, write: () => Promise<T>): Promise<T | undefined> {
    for (let attempt = 1; !this.abort.signal.aborted; attempt++) {
      try {
        const value = await write();
        if (attempt > 1) this.init.log.info({ ...fields, attempts: attempt }, `${what} written after failing; the host publishes again`);
        return value;
      } catch (err) {
        if (attempt === 1 || attempt % 10 === 0) {
          this.init.log.error({ ...fields, attempt, code: (err as NodeJS.ErrnoException).code, err: (err as Error).message }, `${what} write failed: the host publishes nothing more until it is written; retrying`);
        }
        await sleep(Math.min(CHECKPOINT_RETRY_MAX_MS, 250 * 2 ** Math.min(attempt - 1, 6)), this.abort.signal);
      }
    }
    return undefined;
  }

  // A background effect's view of the node: its signal aborts when the runner stops or the
  // machine is withdrawn, so its compute task and fetches stop with it.
  private envOf(m: Machine): EffectEnv {
    let c = this.machineAborts.get(m.key);
    if (!c) {
      c = new AbortController();
      if (this.abort.signal.aborted || this.withdrawn.has(m.key)) c.abort();
      this.machineAborts.set(m.key, c);
    }
    return { ...this.env, signal: c.signal };
  }

  private background(m: Machine, work: Promise<Input | undefined>): void {
    void work.then(
      (input) => {
        const made = input as { ref?: BlobRef; round?: number } | undefined;
        if (made?.ref) this.retention.note(made.ref.hash, m.job, made.round ?? this.roundOf(m.job));
        this.saveRetention();
        if (input) this.feed(m.key, input);
      },
      (err) => this.init.log.error({ machine: m.key, err: (err as Error).message }, 'effect failed'),
    );
  }

  private publish(m: Machine, topic: string, message: Message): void {
    const ch = this.channels.get(topic);
    const bytes = encodeMessage(message);
    // Only the app listens; a large simulated cluster should not pay for the recipient lists.
    if (this.env.events.listening('outbox:sent')) {
      this.env.events.emit('outbox:sent', { rootId: this.tree.rootId, job: message.job, round: message.round, type: message.type, bytes: bytes.byteLength, blobs: blobsNamed(message.payload), recipients: this.topicMembers(message.job) });
    }
    // Gossip does not echo our own messages: hand them to this node's other machines on the topic.
    this.deliver(topic, message, m.key);
    const send = () => {
      if (!ch) return;
      this.init.counters.messagesSent++;
      void ch.publish(bytes, { signal: this.abort.signal }).then(
        (recipients) => {
          this.init.counters.gossipBytesSent += bytes.byteLength * Math.max(1, recipients);
        },
        () => undefined,
      );
    };
    if (m.role !== 'host') {
      send();
      return;
    }
    // §11: a host holds every parameter blob it names before it names it, so the first
    // requests for a new global reach a provider that has it. A message naming one not yet
    // here waits for its fetch, behind this machine's earlier messages (their order holds).
    const held = this.mirror(m, message);
    const sendAsHost = () => {
      if (this.env.events.listening('host:gossiped')) {
        const named = message.type === 'state' ? message.payload.global : message.type === 'submit' ? message.payload.ref : null;
        this.env.events.emit('host:gossiped', { rootId: this.tree.rootId, job: message.job, type: message.type, round: message.round, named });
      }
      send();
    };
    const prev = this.hostOutbox.get(m.key);
    if (held === true && prev === undefined) {
      sendAsHost();
      return;
    }
    // Bounded: a provider that never answers must not silence the host. Past the bound, or
    // when no provider delivered it, the message goes out anyway (members fetch from the workers).
    const next = (prev ?? Promise.resolve())
      .then(() => Promise.race([held, new Promise<'late'>((resolve) => setTimeout(resolve, HOLD_BEFORE_NAMING_MS, 'late').unref())]))
      .then((ok) => {
        if (ok !== true) this.init.log.warn({ job: message.job, type: message.type, round: message.round, why: ok === 'late' ? 'timeout' : 'no provider' }, 'publishing a message that names a parameter blob this host does not hold yet');
        sendAsHost();
      });
    this.hostOutbox.set(m.key, next);
    void next.finally(() => {
      if (this.hostOutbox.get(m.key) === next) this.hostOutbox.delete(m.key);
    });
  }

  // Who receives a message on `job`'s topic: its host, workers and clients (and the
  // distributor of a leaf), this member aside.
  private topicMembers(job: string): string[] {
    const node = this.tree.jobs.get(job);
    if (!node) return [];
    const all = new Set([node.host, ...node.workers, ...node.clients.map((c) => c.peer)]);
    if (node.leaf && this.tree.distributor) all.add(this.tree.distributor);
    all.delete(this.init.me);
    return [...all];
  }

  // A host serves what its messages name (the manifest, inputs, the global model it
  // pushes down, the aggregate it submits upward), so members can always fetch from it.
  // True when every parameter blob the message names is already here (the usual case),
  // else a promise of whether the fetches succeeded.
  private mirror(m: Machine, message: Message): true | Promise<boolean> {
    const limit = { maxBytes: this.env.compute.paramsLimit(this.tree.manifest.model), signal: this.abort.signal };
    const peersOf = (ids: readonly string[]) => ids.map((id) => this.env.peers.peerOf(id));
    let ref: BlobRef | null = null;
    let providers: readonly string[] = [];
    if (message.type === 'state') {
      const p = message.payload;
      this.env.events.emit('state:published', { rootId: this.tree.rootId, job: message.job, round: message.round, processStage: p.processStage, global: p.global });
      ref = p.global;
      providers = globalProviders(this.tree, m.job);
    } else if (message.type === 'submit') {
      ref = message.payload.ref;
      providers = this.tree.jobs.get(m.job)!.workers;
    }
    const key = `${m.key}:${message.type}`;
    if (ref === null || this.heldBlob.get(key) === ref.hash) return true;
    const hash = ref.hash;
    return this.env.blobs.fetch(ref, peersOf(providers), limit).then((ok) => {
      if (ok) this.heldBlob.set(key, hash);
      return ok;
    });
  }

  private async onFinished(m: Machine, final: BlobRef | null, reason: string): Promise<void> {
    this.doneKeys.add(m.key);
    if (final) this.finals.add(final.hash);
    this.init.log.info({ job: m.job, role: m.role, final: final?.hash.slice(0, 12) ?? null, reason }, 'machine finished');
    this.env.events.emit('machine:finished', { rootId: this.tree.rootId, job: m.job, role: m.role, final, reason });
    if (m.role === 'host' && final) void this.env.blobs.fetch(final, globalProviders(this.tree, m.job).map((id) => this.env.peers.peerOf(id)), { maxBytes: this.env.compute.paramsLimit(this.tree.manifest.model) });
    if (this.finished || !this.machines.every((x) => this.doneKeys.has(x.key))) return;
    this.finished = true;
    const record: RuntimeRecord = { submission: this.init.submissionRef, finished: true, final, reason };
    await this.init.store.saveState(this.tree.rootId, RUNTIME_RECORD, record);
    this.env.events.emit('job:finished', { rootId: this.tree.rootId, name: this.tree.root, final, reason });
    // Members keep answering the host's final snapshots for a while (§6.9), then leave the topics.
    const beatMs = Math.max(...[...this.tree.jobs.values()].map((j) => j.timing.heartbeatSeconds)) * 1000;
    this.lingerTimer = setTimeout(() => void this.stop(), 20 * beatMs);
    this.lingerTimer.unref();
  }
}

/** How long a host waits to hold a parameter blob before it publishes a message naming it anyway (PROTOCOL.md §11). */
const HOLD_BEFORE_NAMING_MS = 30_000;

/** The longest wait between two tries of a checkpoint write that failed. */
const CHECKPOINT_RETRY_MAX_MS = 5000;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** A member's journal file in its (root job, job) folder. */
function journalName(role: MemberJournal['role']): string {
  return `journal-${role}`;
}

// What a journal restored, for the "job resumed" log.
function describeJournal(j: MemberJournal): string {
  if (j.role === 'client') {
    const w = j.work;
    const work = w === null ? 'no trained update' : `its round-${w.round} update ${w.trained!.ref.hash.slice(0, 12)}… (${w.submit ? 'submitted: resent if the round still trains' : 'trained: evaluated, then submitted'})`;
    return `journal: consent ${j.consent ?? 'not yet decided'}, ${work}`;
  }
  if (j.role === 'worker') return j.work ? `journal: its aggregate ${j.work.result.hash.slice(0, 12)}… of round ${j.work.round} attempt ${j.work.attempt} (voted again while asked)` : 'journal: no aggregate';
  return j.indexes ? `journal: dataset indexes of ${Object.keys(j.indexes).length} leaf job(s), offered without preparing again` : `journal: preparing failed for good (${j.failure ?? 'unknown'})`;
}

/** Checkpoints are stored per (root job, job), so two submissions of one name never mix. */
export function checkpointKey(tree: JobTree, job: string): string {
  return `${tree.rootId}:${job}`;
}

// Adds the hash of every BlobRef in a machine's state (plain objects and arrays, a few levels
// down: a host's upstream submission, a client's work) to `into`. The tree and sheets are skipped.
function collectRefs(value: unknown, into: Set<string>, depth: number): void {
  if (typeof value !== 'object' || value === null || depth < 0) return;
  if (Array.isArray(value)) {
    if (value.length <= 64) for (const v of value) collectRefs(v, into, depth - 1);
    return;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return;
  const o = value as Record<string, unknown>;
  if (typeof o.hash === 'string' && typeof o.size === 'number') {
    into.add(o.hash);
    return;
  }
  for (const [k, v] of Object.entries(o)) if (k !== 'tree' && k !== 'sheet' && k !== 'node') collectRefs(v, into, depth - 1);
}

/** The blobs a message's payload names (parameters, aggregates, inputs lists, indexes). */
function blobsNamed(payload: unknown): BlobRef[] {
  if (typeof payload !== 'object' || payload === null) return [];
  return Object.values(payload).filter((v): v is BlobRef => typeof v === 'object' && v !== null && typeof (v as BlobRef).hash === 'string' && typeof (v as BlobRef).size === 'number');
}

// A machine's keys and secrets (the DP noise key, PROTOCOL.md §6.14) come from the OS's
// cryptographic source, never from its seeded rng.
function randomBytesOf(n: number): Uint8Array {
  return new Uint8Array(randomBytes(n));
}
