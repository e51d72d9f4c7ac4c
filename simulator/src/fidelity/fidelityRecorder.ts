import type { HostState, JobTree } from '@canopy/core/protocol';
import type { CanopyNode, CanopyNodeEvents } from '@canopy/core/runtime';
import type { RoundRecord } from '../report/roundRecord.js';
import { RoundTimes, roundEvents, scores } from '../run/roundTimes.js';

/** What the recorder needs from the runner. */
export interface FidelityRecorderOptions {
  readonly tree: JobTree;
  readonly repetition: number;
  readonly nodes: ReadonlyMap<string, CanopyNode>;
  /** Seconds since the job was submitted: fidelity mode's "virtual" time. */
  readonly now: () => number;
  /** Seconds since the repetition started (cluster start-up included). */
  readonly wall: () => number;
  /** The simulator's own look at a global model (not the protocol's): loss and accuracy on the whole test set. */
  readonly observe: (hash: string) => Promise<{ loss: number; accuracy: number } | null>;
  /** Receives each finished round, in order. */
  readonly emit: (record: RoundRecord) => void;
}

interface Counters {
  participants: number;
  stragglers: number;
  faults: number;
  events: string[];
}

/**
 * Turns what real nodes report (their runtime events) into the same {@link RoundRecord}s the
 * modelled recorder builds from the shell, with the same round boundaries: a root round
 * starts when the root host publishes ProcessStage=1 and ends with its `round` metric.
 * Times are wall-clock seconds since submission. Bytes and messages per level are the
 * nodes' own traffic counters, each node counted at the deepest level it has a role in.
 */
export class FidelityRecorder {
  private c: Counters = fresh();
  private readonly lastStage = new Map<string, string>();
  private readonly closed = new Set<string>();
  private readonly level = new Map<string, string>();
  private readonly traffic = new Map<string, { messages: number; bytes: number }>();
  /** The root round's stage times, in seconds since submission. */
  private readonly times = new RoundTimes(1);
  private chain: Promise<void> = Promise.resolve();
  /** Root rounds recorded. */
  rounds = 0;
  /** The last round's accuracy and loss (null before any was evaluated). */
  last: { accuracy: number | null; loss: number | null } = { accuracy: null, loss: null };
  /** The root host's final state, once it published ProcessStage=3. */
  rootDone: { at: number; final: string | null; reason: string } | null = null;
  /** Messages a node's validator rejected (an honest run has none). */
  readonly violations: string[] = [];
  /** Final hash of every client and worker machine that finished, by `member/role:job`. */
  readonly finals = new Map<string, string | null>();
  /** Runtime events seen. */
  events = 0;
  /** Called whenever a root round closes or the root finishes (the runner's stall watch). */
  onProgress: () => void = () => undefined;

  constructor(private readonly o: FidelityRecorderOptions) {
    for (const node of o.tree.jobs.values()) {
      for (const m of [node.host, ...node.workers, ...(node.leaf ? node.clients.map((c) => c.peer) : [])]) {
        const prev = this.level.get(m);
        if (prev === undefined || Number(prev) < node.depth) this.level.set(m, String(node.depth));
      }
    }
  }

  /** Subscribes to every node's events; returns the unsubscribe. */
  attach(): () => void {
    const offs: (() => void)[] = [];
    for (const [name, node] of this.o.nodes) {
      const on = <K extends keyof CanopyNodeEvents>(event: K, fn: (d: CanopyNodeEvents[K]) => void) =>
        offs.push(
          node.events.on(event, (d) => {
            this.events++;
            fn(d);
          }),
        );
      on('state:published', (d) => this.onState(node, d));
      on('round:finished', (d) => this.onRound(d));
      on('metric', (d) => this.onMetric(d));
      on('task:done', (d) => {
        if (d.task === 'aggregate' && d.job === this.o.tree.root) this.times.vote(this.o.now());
      });
      on('message:rejected', (d) => this.violations.push(`${name} rejected a message from ${d.from} on ${d.topic}: ${d.reason}`));
      on('machine:finished', (d) => {
        if (d.role === 'client' || d.role === 'worker') this.finals.set(`${name}/${d.role}:${d.job}`, d.final?.hash ?? null);
      });
    }
    return () => offs.forEach((off) => off());
  }

  /** Waits until every round record has been emitted (evaluations read blobs asynchronously). */
  flush(): Promise<void> {
    return this.chain;
  }

  private onState(node: CanopyNode, d: CanopyNodeEvents['state:published']): void {
    const job = this.o.tree.jobs.get(d.job);
    if (!job) return;
    const host = hostState(node, d.rootId, d.job);
    const now = this.o.now();
    if (d.job === this.o.tree.root && host) {
      // Setup flags change without a stage change, so look at every snapshot the root publishes.
      this.times.rootSetup(host, now);
    }
    const mark = `${d.round}:${d.processStage}`;
    if (this.lastStage.get(d.job) === mark) return;
    this.lastStage.set(d.job, mark);
    if (job.leaf && d.processStage === 2 && host) {
      // Training just closed: the sampled clients that did not submit straggled (no one crashes here).
      this.c.stragglers += Math.max(0, host.sampled.size - host.inputCount);
    }
    if (d.job !== this.o.tree.root) return;
    this.times.rootStage(d.round, d.processStage, now);
    if (d.processStage === 3 && this.rootDone === null) {
      this.rootDone = { at: now, final: host?.global?.hash ?? d.global?.hash ?? null, reason: host?.stopReason ?? 'finished' };
      this.onProgress();
    }
  }

  private onRound(d: CanopyNodeEvents['round:finished']): void {
    const key = `${d.job}|${d.round}`;
    // A job's `round` metric can repeat for one round (a late vote re-decides it); count it once.
    if (this.closed.has(key)) return;
    this.closed.add(key);
    if (this.o.tree.jobs.get(d.job)?.leaf) this.c.participants += Number(d.values.clients ?? 0);
    if (d.job === this.o.tree.root) this.closeRound(d);
  }

  private onMetric(d: CanopyNodeEvents['metric']): void {
    switch (d.name) {
      case 'workerFault':
        this.c.faults++;
        break;
      case 'workerExcluded':
        this.c.events.push(`${d.values.worker} excluded from ${d.job} after ${d.values.faults} faults`);
        break;
      case 'consensusFailed':
        this.c.events.push(`consensus failed in ${d.job} round ${d.round} (attempt ${d.values.attempt})`);
        break;
      case 'quorumMissed':
        this.c.events.push(`quorum missed in ${d.job} round ${d.round}: ${d.values.submitted} of ${d.values.needed} submissions`);
        break;
      case 'memberOffline':
        // On real nodes this is timing, not a modelled device: it is why a run can differ from the modelled one.
        this.c.events.push(`${d.values.member} (${d.values.role}) marked offline in ${d.job}`);
        break;
      default:
        break;
    }
  }

  private closeRound(d: CanopyNodeEvents['round:finished']): void {
    const now = this.o.now();
    const c = this.c;
    this.c = fresh();
    const events = roundEvents(c.events, c.faults);
    const { bytesByLevel, messagesByLevel } = this.trafficSinceLastRound();
    const base = {
      repetition: this.o.repetition,
      round: d.round,
      virtualSeconds: now,
      wallSeconds: this.o.wall(),
      participants: c.participants,
      stragglers: c.stragglers,
      crashed: 0,
      bytesByLevel,
      messagesByLevel,
      stageLatencies: this.times.latencies(d.round, now),
      ...(events.length > 0 ? { events } : {}),
    };
    const evaluation = this.o.observe(String(d.values.aggregate ?? '')).catch(() => null);
    this.rounds++;
    this.onProgress();
    this.chain = this.chain.then(async () => {
      const r = await evaluation;
      const record: RoundRecord = { ...base, ...scores(r) };
      this.last = { accuracy: record.accuracy, loss: record.loss };
      this.o.emit(record);
    });
  }

  private trafficSinceLastRound(): { bytesByLevel: Record<string, number>; messagesByLevel: Record<string, number> } {
    const bytesByLevel: Record<string, number> = {};
    const messagesByLevel: Record<string, number> = {};
    for (const [name, node] of this.o.nodes) {
      const s = node.stats();
      const now = { messages: s.messagesSent, bytes: s.gossipBytesSent + s.blobBytesFetched };
      const prev = this.traffic.get(name) ?? { messages: 0, bytes: 0 };
      this.traffic.set(name, now);
      const level = this.level.get(name) ?? '0';
      messagesByLevel[level] = (messagesByLevel[level] ?? 0) + (now.messages - prev.messages);
      bytesByLevel[level] = (bytesByLevel[level] ?? 0) + (now.bytes - prev.bytes);
    }
    return { bytesByLevel, messagesByLevel };
  }
}

/** The full state of `job`'s host machine on a node, if it runs it. */
function hostState(node: CanopyNode, rootId: string, job: string): HostState | undefined {
  const m = node.runner(rootId)?.machineStates().find((x) => x.key === `host:${job}`);
  return m?.state.role === 'host' ? m.state : undefined;
}

function fresh(): Counters {
  return { participants: 0, stragglers: 0, faults: 0, events: [] };
}
