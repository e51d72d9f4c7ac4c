import { buildJobTree, FINISHED_LINGER_BEATS, MAX_ATTEMPTS, type FinishedEffect, type JobTree, type MachineState, type Manifest, type Message } from '@canopy/core/protocol';
import { Rng } from '@canopy/core/util';
import { artifactResult, type ArtifactResult } from '@canopy/core/artifacts';
import { NetworkModel } from '../engine/network.js';
import type { RepetitionStopReason, RoundRecord } from '../report/roundRecord.js';
import { lyingWorkers } from '../scenario/faults.js';
import type { Scenario } from '../scenario/scenario.js';
import { repetitionSeeds, scenarioJobHash, scenarioManifest } from '../scenario/scenarioManifest.js';
import { QueuePool } from '../queue/queuePool.js';
import type { QueueReport, QueueStatus } from '../queue/queueReport.js';
import { sourceRowsOf } from '../scenario/scenarioArtifact.js';
import { aggregateThreadCount } from './aggregatePool.js';
import { ArtifactTrainer } from './artifactTrainer.js';
import { BlobStore } from './blobStore.js';
import { createPeers, type Peer } from './peers.js';
import { RealTrainer } from './realTrainer.js';
import { RoundRecorder } from './roundRecorder.js';
import { SimShell, type ShellObserver } from './simShell.js';
import { SYNTHETIC_HETEROGENEITY } from '@canopy/core/ml';
import { SyntheticTrainer } from './syntheticTrainer.js';
import type { Trainer } from './trainer.js';
import { VirtualLoop } from './virtualLoop.js';

/** What one repetition came to. */
export interface RepetitionResult {
  readonly repetition: number;
  /** Root rounds completed. */
  readonly rounds: number;
  /** The final model's accuracy and loss on the whole test set (null if never evaluated). */
  readonly accuracy: number | null;
  readonly loss: number | null;
  readonly virtualSeconds: number;
  readonly wallSeconds: number;
  /** Bytes the network carried (messages and blobs) and control messages delivered. */
  readonly bytesSent: number;
  readonly messages: number;
  readonly stopReason: RepetitionStopReason;
  /** The root's own stop reason, or what went wrong. */
  readonly detail: string;
  /** sha256 of the final global parameters, as the root host recorded them. */
  readonly finalHash: string | null;
  /** Client and worker machines whose recorded final hash equals the root's, out of `members`. */
  readonly agreeing: number;
  readonly members: number;
  /** Messages the protocol's validator rejected (an honest run has none). */
  readonly violations: readonly string[];
  /** Simulation events processed. */
  readonly events: number;
  /** An artifact scenario's result, read from the root's final resource (docs/ARTIFACTS.md, "Results"). */
  readonly result?: ArtifactResult;
  /** With `training.queue`: where the compute tasks ran and how long they waited. */
  readonly queue?: QueueReport;
}

/** Hooks of one repetition. */
export interface RepetitionHooks {
  readonly onRound?: (record: RoundRecord) => void;
  readonly signal?: AbortSignal;
  /** Called every few thousand events. */
  readonly onTick?: (virtualSeconds: number) => void;
  /** With `training.queue`: the queue's depth and live workers, every 2 s. */
  readonly onQueue?: (status: QueueStatus) => void;
}

/** The scenario's trainer for a repetition's manifest (an artifact's needs its job tree). */
export function createTrainer(scenario: Scenario, manifest: Manifest, store: BlobStore, tree?: JobTree, repetition = 0, onQueue?: (status: QueueStatus) => void): Trainer {
  const t = scenario.training;
  if (manifest.artifact && scenario.data) {
    const seeds = repetitionSeeds(scenario, repetition);
    const threads = t.mode === 'real' ? t.workerThreads : undefined;
    return new ArtifactTrainer(store, {
      tree: tree ?? buildJobTree(manifest),
      rows: sourceRowsOf(scenario.data),
      split: scenario.data.split,
      splitSeed: scenario.data.seed + repetition,
      noiseSeed: seeds.simulation,
      ...(threads !== undefined ? { threads } : {}),
    });
  }
  if (t.mode === 'real') {
    const d = manifest.dataset;
    const compute = t.queue === undefined ? t.workerThreads : new QueuePool({ url: t.queue, job: scenarioJobHash(scenario), ...(onQueue ? { onStatus: onQueue } : {}) });
    return new RealTrainer(store, manifest.model, { source: d.source, partition: d.partition, seed: d.seed }, compute);
  }
  return new SyntheticTrainer(store, {
    spec: { params: t.params, learnRate: t.learnRate, epochs: manifest.train.epochs, heterogeneity: SYNTHETIC_HETEROGENEITY, seed: manifest.train.seed },
    samplesPerClient: t.samplesPerClient,
    secondsPerSample: t.secondsPerSample,
    aggregateThreads: aggregateThreadCount(t.aggregateThreads, t.params),
  });
}

/**
 * Runs repetition `repetition` of a scenario to its end: the root's stop condition (then
 * until every host has finished, so every member holds the final model), the scenario's
 * virtual time limit, a stall, or an abort.
 */
export async function runRepetition(scenario: Scenario, repetition: number, hooks: RepetitionHooks = {}): Promise<RepetitionResult> {
  const wallStart = performance.now();
  const seeds = repetitionSeeds(scenario, repetition);
  const manifest = scenarioManifest(scenario, repetition);
  const tree = buildJobTree(manifest);
  const rng = Rng.fromSeed(seeds.simulation);
  const loop = new VirtualLoop();
  const store = new BlobStore();
  const peers = createPeers(tree, scenario, seeds.simulation);
  const network = new NetworkModel(scenario.network, rng.fork('network'));
  const trainer = createTrainer(scenario, manifest, store, tree, repetition, hooks.onQueue);
  if (trainer.helpOne) loop.helper = () => trainer.helpOne!();
  // The queue failing (Redis gone, a task lost past its retries, no worker) ends the run with
  // that error: unlike a task's own error, it is no event of the protocol to play on.
  let fatal: Error | undefined;
  const queue = trainer instanceof RealTrainer && trainer.compute instanceof QueuePool ? trainer.compute : undefined;
  if (queue)
    queue.onFatal = (e) => {
      fatal ??= e;
      loop.stop();
    };
  const recorder = new RoundRecorder({ tree, repetition, now: () => loop.now, wallStart, observe: (ref) => trainer.observe(ref), emit: (r) => hooks.onRound?.(r) });
  const end = new EndWatch(tree, loop, store);
  const shell = new SimShell({
    tree,
    seed: seeds.simulation,
    loop,
    store,
    trainer,
    network,
    peers,
    liars: lyingWorkers(manifest.cluster, scenario.faults.lyingWorkersPerCluster),
    lie: scenario.faults.lie,
    hostCrashes: scenario.faults.hostCrashes.map((c) => ({ host: c.host, atMs: c.atSeconds * 1000, restartAfterMs: c.restartAfterSeconds === undefined ? null : c.restartAfterSeconds * 1000 })),
    observer: both(recorder, end),
  });
  let aborted = false;
  try {
    shell.start();
    end.armWatchdog();
    const until = scenario.maxVirtualSeconds === undefined ? Number.POSITIVE_INFINITY : scenario.maxVirtualSeconds * 1000;
    const how = await loop.run({
      until,
      onBatch: () => {
        hooks.onTick?.(loop.now / 1000);
        if (hooks.signal?.aborted) {
          aborted = true;
          loop.stop();
        }
      },
    });
    if (fatal) throw fatal;
    await recorder.flush();
    if (fatal) throw fatal;
    const finals = collectFinals(peers, end.rootFinal);
    const stop: { reason: RepetitionStopReason; detail: string } = aborted
      ? { reason: 'aborted', detail: 'aborted by the user' }
      : end.rootReason !== null
        ? classify(end.rootReason)
        : how === 'until'
          ? { reason: 'maxVirtualSeconds', detail: `no stop condition held within ${scenario.maxVirtualSeconds} virtual seconds` }
          : { reason: 'stalled', detail: end.stallDetail ?? 'the job stopped making progress' };
    return {
      repetition,
      rounds: recorder.rounds,
      accuracy: recorder.last.accuracy,
      loss: recorder.last.loss,
      virtualSeconds: (end.rootDoneAt ?? loop.now) / 1000,
      wallSeconds: (performance.now() - wallStart) / 1000,
      bytesSent: network.bytesSent,
      messages: network.messages,
      stopReason: stop.reason,
      detail: stop.detail,
      finalHash: end.rootFinal,
      agreeing: finals.agreeing,
      members: finals.members,
      violations: shell.violations,
      events: loop.eventsRun,
      ...(manifest.artifact && end.rootFinal !== null && store.has(end.rootFinal) ? { result: artifactResult(manifest, store.bytes(end.rootFinal)) } : {}),
      ...(queue ? { queue: queue.report() } : {}),
    };
  } finally {
    await trainer.close();
  }
}

/** Maps the root's stop reason (PROTOCOL.md §7) to the report's. */
export function classify(reason: string): { reason: RepetitionStopReason; detail: string } {
  if (reason.startsWith('targetAccuracy')) return { reason: 'targetAccuracy', detail: reason };
  if (reason.startsWith('targetLoss')) return { reason: 'targetLoss', detail: reason };
  if (reason.startsWith('rounds')) return { reason: 'rounds', detail: reason };
  if (reason.startsWith('privacy budget')) return { reason: 'privacyBudget', detail: reason };
  return { reason: 'error', detail: reason };
}

function collectFinals(peers: ReadonlyMap<string, Peer>, root: string | null): { agreeing: number; members: number } {
  let agreeing = 0;
  let members = 0;
  for (const peer of peers.values()) {
    for (const { machine } of peer.slots) {
      const s = machine.state;
      if (s.role !== 'client' && s.role !== 'worker') continue;
      members++;
      if (root !== null && s.final?.hash === root) agreeing++;
    }
  }
  return { agreeing, members };
}

function both(a: ShellObserver, b: ShellObserver): ShellObserver {
  return {
    onPublish: (...x) => (a.onPublish?.(...x), b.onPublish?.(...x)),
    onBlob: (...x) => (a.onBlob?.(...x), b.onBlob?.(...x)),
    onMetric: (...x) => (a.onMetric?.(...x), b.onMetric?.(...x)),
    onCrash: (...x) => (a.onCrash?.(...x), b.onCrash?.(...x)),
    onHostCrash: (...x) => (a.onHostCrash?.(...x), b.onHostCrash?.(...x)),
    onFinished: (...x) => (a.onFinished?.(...x), b.onFinished?.(...x)),
  };
}

/**
 * Watches for the end of a repetition: the root's final state, then every host finishing
 * (or the hosts' linger time passing). Also drops blobs of rounds long past, and stops a
 * run whose root has made no progress for longer than its deadlines and retries allow.
 */
class EndWatch implements ShellObserver {
  rootFinal: string | null = null;
  rootReason: string | null = null;
  rootDoneAt: number | null = null;
  stallDetail: string | null = null;
  private hostsLeft: number;
  private lastProgress = 0;
  private readonly beatMs: number;
  private readonly stallMs: number;

  constructor(
    private readonly tree: JobTree,
    private readonly loop: VirtualLoop,
    private readonly store: BlobStore,
  ) {
    this.hostsLeft = tree.jobs.size;
    ({ beatMs: this.beatMs, stallMs: this.stallMs } = runBounds(tree));
  }

  armWatchdog(): void {
    const check = () => {
      if (this.rootDoneAt !== null) return;
      if (this.loop.now - this.lastProgress > this.stallMs) {
        this.stallDetail = `no root round finished in ${Math.round((this.loop.now - this.lastProgress) / 1000)} virtual seconds`;
        this.loop.stop();
        return;
      }
      this.loop.after(this.stallMs / 4, check);
    };
    this.loop.after(this.stallMs / 4, check);
  }

  onPublish(_from: Peer, state: MachineState, msg: Message): void {
    if (msg.type !== 'state' || msg.job !== this.tree.root || state.role !== 'host') return;
    const p = msg.payload;
    if (p.processStage === 1 && msg.round > this.store.generation) {
      this.lastProgress = this.loop.now;
      this.store.generation = msg.round;
      // Blobs two root rounds old are never fetched again: every member has moved on.
      const keep = new Set<string>([p.manifest.hash, ...(p.global ? [p.global.hash] : [])]);
      this.store.sweep(msg.round - 2, keep);
    }
    if (p.processStage === 3 && this.rootDoneAt === null) {
      this.rootDoneAt = this.loop.now;
      this.rootFinal = p.global?.hash ?? null;
      this.rootReason = p.stopReason ?? 'finished';
      // Members hear the final state within a beat or two; hosts linger at most this long.
      this.loop.after((FINISHED_LINGER_BEATS + 2) * this.beatMs, () => this.loop.stop());
    }
  }

  onFinished(_member: string, e: FinishedEffect): void {
    if (e.role === 'host' && --this.hostsLeft <= 0) this.loop.stop();
  }
}

/**
 * A tree's longest heartbeat, and how long a run may go without progress before it counts as
 * stalled: a root round can legitimately take every level's deadlines and retries, one after
 * another. Both runners (modelled and fidelity) use it, in milliseconds.
 */
export function runBounds(tree: JobTree): { beatMs: number; stallMs: number } {
  let beatMs = 0;
  let stall = 0;
  let depth = 0;
  for (const n of tree.jobs.values()) {
    beatMs = Math.max(beatMs, n.timing.heartbeatSeconds * 1000);
    stall = Math.max(stall, n.timing.roundDeadlineSeconds * 1000 * MAX_ATTEMPTS * 2 * n.timing.localRounds);
    depth = Math.max(depth, n.depth + 1);
  }
  return { beatMs, stallMs: stall * depth + 10 * 60_000 };
}
