import type { BlobRef, EmitMetricEffect, HostState, JobTree, MachineState, Message } from '@canopy/core/protocol';
import type { RoundRecord } from '../report/roundRecord.js';
import type { Peer } from './peers.js';
import type { ShellObserver } from './simShell.js';
import type { Maybe } from './trainer.js';
import { RoundTimes, roundEvents, scores } from './roundTimes.js';

interface Counters {
  bytesByLevel: Record<string, number>;
  messagesByLevel: Record<string, number>;
  participants: number;
  stragglers: number;
  crashed: number;
  faults: number;
  events: string[];
}

/** What the recorder needs from outside the shell. */
export interface RecorderOptions {
  readonly tree: JobTree;
  readonly repetition: number;
  readonly now: () => number;
  /** Wall-clock ms when the repetition started. */
  readonly wallStart: number;
  /** Evaluates a global model on the whole test set (the simulator's measurement, not the protocol's). */
  readonly observe: (ref: BlobRef) => Maybe<{ loss: number; accuracy: number } | null>;
  /** Receives each finished round, in order. */
  readonly emit: (record: RoundRecord) => void;
}

/**
 * Turns what the machines emit (state snapshots, `round` metrics, votes) and what the shell
 * sees (bytes, crashes) into one RoundRecord per root round. A root round starts when the
 * root publishes ProcessStage=1 and ends with its `round` metric; everything the sub-jobs
 * did in between belongs to it, and round 1 also carries the setup stages.
 */
export class RoundRecorder implements ShellObserver {
  private c: Counters = fresh();
  private readonly lastStage = new Map<string, string>();
  private readonly crashes = new Map<string, number>();
  // A job's `round` metric can repeat for one round (a late vote re-decides it); count it once.
  private readonly closed = new Set<string>();
  /** ε each DP leaf cluster has spent so far (§6.14), by job. */
  private readonly epsilon = new Map<string, number>();
  /** The root round's stage times, in virtual milliseconds. */
  private readonly times = new RoundTimes(1000);
  private chain: Promise<void> = Promise.resolve();
  /** Root rounds recorded. */
  rounds = 0;
  /** The last round's accuracy and loss (null before any was evaluated). */
  last: { accuracy: number | null; loss: number | null } = { accuracy: null, loss: null };

  constructor(private readonly o: RecorderOptions) {}

  onPublish(_from: Peer, state: MachineState, msg: Message, bytes: number, deliveries: number): void {
    const node = this.o.tree.jobs.get(msg.job);
    if (!node) return;
    const level = String(node.depth);
    this.c.messagesByLevel[level] = (this.c.messagesByLevel[level] ?? 0) + deliveries;
    this.c.bytesByLevel[level] = (this.c.bytesByLevel[level] ?? 0) + bytes * deliveries;
    const now = this.o.now();
    if (msg.type === 'aggregate' && msg.job === this.o.tree.root) this.times.vote(now);
    if (msg.type !== 'state' || state.role !== 'host' || state.job !== msg.job) return;
    const p = msg.payload;
    const mark = `${msg.round}:${p.processStage}`;
    if (this.lastStage.get(msg.job) === mark) return;
    this.lastStage.set(msg.job, mark);
    if (node.leaf && p.processStage === 2) {
      // Training just closed: the sampled clients that neither submitted nor crashed straggled.
      const crashed = this.crashes.get(`${msg.job}|${msg.round}`) ?? 0;
      this.c.stragglers += Math.max(0, (state as HostState).sampled.size - p.inputCount - crashed);
    }
    if (msg.job !== this.o.tree.root) return;
    this.times.rootSetup(p, now);
    this.times.rootStage(msg.round, p.processStage, now);
  }

  onBlob(job: string, bytes: number): void {
    const level = String(this.o.tree.jobs.get(job)?.depth ?? 0);
    this.c.bytesByLevel[level] = (this.c.bytesByLevel[level] ?? 0) + bytes;
  }

  onCrash(_member: string, job: string, round: number): void {
    this.c.crashed++;
    const key = `${job}|${round}`;
    this.crashes.set(key, (this.crashes.get(key) ?? 0) + 1);
  }

  onHostCrash(member: string, restartAfterMs: number | null): void {
    this.event(restartAfterMs === null ? `${member} crashed for good` : `${member} crashed; restarts from its checkpoint in ${Math.round(restartAfterMs / 1000)} s`);
  }

  onMetric(m: EmitMetricEffect): void {
    switch (m.name) {
      case 'round':
        if (this.closed.has(`${m.job}|${m.round}`)) break;
        this.closed.add(`${m.job}|${m.round}`);
        if (this.o.tree.jobs.get(m.job)?.leaf) this.c.participants += Number(m.values.clients ?? 0);
        if (typeof m.values.epsilon === 'number') this.epsilon.set(m.job, m.values.epsilon);
        if (m.job === this.o.tree.root) this.closeRound(m);
        break;
      case 'workerFault':
        this.c.faults++;
        break;
      case 'workerExcluded':
        this.event(`${m.values.worker} excluded from ${m.job} after ${m.values.faults} faults`);
        break;
      case 'consensusFailed':
        this.event(`consensus failed in ${m.job} round ${m.round} (attempt ${m.values.attempt})`);
        break;
      case 'quorumMissed':
        this.event(`quorum missed in ${m.job} round ${m.round}: ${m.values.submitted} of ${m.values.needed} submissions`);
        break;
      default:
        break;
    }
  }

  /** Waits until every round record has been emitted (real-mode evaluations run on threads). */
  flush(): Promise<void> {
    return this.chain;
  }

  private event(text: string): void {
    this.c.events.push(text);
  }

  private closeRound(m: EmitMetricEffect): void {
    const now = this.o.now();
    const c = this.c;
    this.c = fresh();
    const events = roundEvents(c.events, c.faults);
    const base = {
      repetition: this.o.repetition,
      round: m.round,
      virtualSeconds: Math.max(0, now) / 1000,
      wallSeconds: (performance.now() - this.o.wallStart) / 1000,
      participants: c.participants,
      stragglers: c.stragglers,
      crashed: c.crashed,
      bytesByLevel: c.bytesByLevel,
      messagesByLevel: c.messagesByLevel,
      stageLatencies: this.times.latencies(m.round, now),
      ...(events.length > 0 ? { events } : {}),
      ...(this.epsilon.size > 0 ? { epsilon: Math.max(...this.epsilon.values()) } : {}),
    };
    const hash = String(m.values.aggregate ?? '');
    const evaluation = this.o.observe({ hash, size: 0 });
    this.rounds++;
    this.chain = this.chain.then(async () => {
      const r = await Promise.resolve(evaluation).catch(() => null);
      const record: RoundRecord = { ...base, ...scores(r) };
      this.last = { accuracy: record.accuracy, loss: record.loss };
      this.o.emit(record);
    });
  }
}

function fresh(): Counters {
  return { bytesByLevel: {}, messagesByLevel: {}, participants: 0, stragglers: 0, crashed: 0, faults: 0, events: [] };
}
