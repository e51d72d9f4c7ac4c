import { Rng, hash32 } from '../../util/rng.js';
import { seededSecretBytes, type Ctx } from '../ctx.js';
import type { Effect, EffectHandlers } from '../effects.js';
import type { Input } from '../inputs.js';
import { allMembers, buildJobTree, jobOf, type JobTree } from '../jobTree.js';
import type { Manifest } from '../manifest.js';
import { encodeMessage, type BlobRef, type Message } from '../messages/index.js';
import { createMachine, createMachines, restoreHostMachine, stepMachine, viewOf, wantsMessage, type Machine } from '../machines/index.js';
import { validateMessage } from '../validate/index.js';
import { EventQueue } from './eventQueue.js';
import { asInputs, fakeAggregate, fakeEvaluate, fakeInit, fakeLie, fakeSamples, fakeTrain, refOf, type FakeParams } from './standIns.js';

// The deterministic in-memory driver: the simplest shell. It runs every member's machines
// over a virtual clock, a lossy in-memory gossip, a shared blob store, and stand-in
// arithmetic for training. It is how the tests prove the protocol before any network
// exists, and its pieces (event queue, effect handling) are what a simulator builds on.

/** How the in-memory network treats each remote delivery. */
export interface NetworkProfile {
  readonly minDelayMs: number;
  readonly maxDelayMs: number;
  /** Probability a delivery is lost. */
  readonly loss: number;
  /** Probability a delivery arrives twice. */
  readonly duplicate: number;
}

/** A scenario for one run. */
export interface DriverOptions {
  readonly manifest: Manifest;
  readonly seed: number;
  readonly network?: Partial<NetworkProfile>;
  /** Workers whose aggregates are wrong (all the same wrong, as if colluding). */
  readonly liars?: readonly string[];
  /** Members that stop for good at a time (ms). */
  readonly kills?: readonly { readonly member: string; readonly at: number }[];
  /** Clients whose owners refuse consent. */
  readonly refusals?: readonly string[];
  /** The distributor's `prepareDataset` always fails with this reason (a missing dataset). */
  readonly datasetUnavailable?: string;
  /** Hosts that crash at `at` and restart from their last checkpoint `downMs` later. */
  readonly hostCrashes?: readonly { readonly job: string; readonly at: number; readonly downMs: number }[];
  /** Virtual time limit (ms). */
  readonly maxTimeMs?: number;
  /** Run the validator without the receiver's view, so stale messages reach the machines (which must drop them too). */
  readonly blindValidator?: boolean;
}

/** What a run produced. */
export interface DriverResult {
  readonly tree: JobTree;
  /** Virtual time when the last event that did something ran (cancelled timers do not count). */
  readonly endedAt: number;
  /** The root's final parameter hash and stop reason (null if it never finished). */
  readonly rootFinal: string | null;
  readonly stopReason: string | null;
  /** Final parameter hash each client and worker machine recorded, by `member/role:job`. */
  readonly finals: ReadonlyMap<string, string | null>;
  /** Status trace of each client and worker machine, by `member/role:job`. */
  readonly traces: ReadonlyMap<string, readonly number[]>;
  /** Members killed in the scenario. */
  readonly killed: ReadonlySet<string>;
  /** Every emitted metric, in order. */
  readonly metrics: readonly (Extract<Effect, { type: 'emitMetric' }> & { at: number })[];
  /** Protocol violations the driver observed (must be empty). */
  readonly violations: readonly string[];
  /** Validator verdicts counted by `result:reason`. */
  readonly verdicts: ReadonlyMap<string, number>;
  /** Aggregations the workers performed: job, round and the rounds of their inputs' bases. */
  readonly aggregations: readonly { job: string; round: number; base: string; inputBases: readonly (string | null)[] }[];
  /** Hashes of the aggregates lying workers produced. */
  readonly lies: ReadonlySet<string>;
  /** The noise seed each worker of a DP cluster aggregated with (§6.14), in order. */
  readonly noiseSeeds: readonly { job: string; round: number; worker: string; seed: string }[];
}

type DriverEvent =
  | { kind: 'start'; member: string }
  | { kind: 'deliver'; member: string; topic: string; bytes: Uint8Array; from: string; exceptKey?: string }
  | { kind: 'input'; member: string; key: string; input: Input; epoch: number }
  | { kind: 'timer'; member: string; key: string; id: string; gen: number; epoch: number }
  | { kind: 'kill'; member: string }
  | { kind: 'crash'; member: string; job: string }
  | { kind: 'restore'; member: string; job: string };

interface Peer {
  readonly id: string;
  machines: Machine[];
  alive: boolean;
  readonly rngs: Map<string, Rng>;
  /** Bumped when a machine is replaced, so its old timers and results are dropped. */
  readonly epochs: Map<string, number>;
}

const DEFAULT_NETWORK: NetworkProfile = { minDelayMs: 5, maxDelayMs: 50, loss: 0, duplicate: 0 };

/** Runs one job to completion (or the time limit) and reports what happened. */
export function runInMemory(options: DriverOptions): DriverResult {
  const tree = buildJobTree(options.manifest);
  const net = { ...DEFAULT_NETWORK, ...options.network };
  const rng = Rng.fromSeed(options.seed);
  const netRng = rng.fork('net');
  const taskRng = rng.fork('tasks');
  const queue = new EventQueue<DriverEvent>();
  const blobs = new Map<string, unknown>();
  const checkpoints = new Map<string, unknown>();
  const timers = new Map<string, number>();
  const subscribers = new Map<string, Set<string>>();
  const liars = new Set(options.liars ?? []);
  const refusals = new Set(options.refusals ?? []);
  const killed = new Set<string>();
  const lies = new Set<string>();
  const metrics: (Extract<Effect, { type: 'emitMetric' }> & { at: number })[] = [];
  const violations: string[] = [];
  const verdicts = new Map<string, number>();
  const aggregations: { job: string; round: number; base: string; inputBases: (string | null)[] }[] = [];
  const noiseSeeds: { job: string; round: number; worker: string; seed: string }[] = [];
  const trees = new Map([[tree.rootId, tree]]);
  const maxTime = options.maxTimeMs ?? 6 * 3600 * 1000;
  let now = 0;

  const peers = new Map<string, Peer>();
  for (const id of allMembers(tree)) {
    const machines = createMachines(tree, id, 0);
    peers.set(id, { id, machines, alive: true, rngs: new Map(), epochs: new Map() });
    for (const m of machines) for (const t of m.topics) (subscribers.get(t) ?? subscribers.set(t, new Set()).get(t)!).add(id);
    queue.push(hash32(id) & 0xff, { kind: 'start', member: id });
  }
  for (const k of options.kills ?? []) queue.push(k.at, { kind: 'kill', member: k.member });
  for (const c of options.hostCrashes ?? []) {
    const host = jobOf(tree, c.job).host;
    queue.push(c.at, { kind: 'crash', member: host, job: c.job });
    queue.push(c.at + c.downMs, { kind: 'restore', member: host, job: c.job });
  }

  const ctxFor = (peer: Peer, key: string): Ctx => {
    let r = peer.rngs.get(key);
    if (!r) peer.rngs.set(key, (r = Rng.fromSeed(hash32(`${options.seed}:${peer.id}:${key}`))));
    return { now, rng: r, secretBytes: seededSecretBytes(r) };
  };
  const delay = () => net.minDelayMs + netRng.float() * (net.maxDelayMs - net.minDelayMs);
  const taskTime = (lo: number, hi: number) => lo + taskRng.float() * (hi - lo);
  const epochOf = (peer: Peer, key: string) => peer.epochs.get(key) ?? 0;

  let lastActive = 0;
  const stepOne = (peer: Peer, machine: Machine, input: Input) => {
    lastActive = now;
    const { state, effects } = stepMachine(machine.state, input, ctxFor(peer, machine.key));
    machine.state = state;
    for (const e of effects) perform(peer, machine, e);
  };

  const result = (peer: Peer, machine: Machine, input: Input, after: number) =>
    queue.push(now + after, { kind: 'input', member: peer.id, key: machine.key, input, epoch: epochOf(peer, machine.key) });

  // One handler per effect type (PROTOCOL.md §8): a type missing here does not compile.
  const handlers: EffectHandlers<[peer: Peer, machine: Machine]> = {
    publish: (e, peer, machine) => {
      const bytes = encodeMessage(e.message);
      for (const target of audience(e.topic, e.message.type, e.message.job)) {
        if (target === peer.id) {
          // The shell loops its own messages back to its other machines on the topic.
          queue.push(now, { kind: 'deliver', member: target, topic: e.topic, bytes, from: peer.id, exceptKey: machine.key });
          continue;
        }
        if (netRng.float() < net.loss) continue;
        queue.push(now + delay(), { kind: 'deliver', member: target, topic: e.topic, bytes, from: peer.id });
        if (netRng.float() < net.duplicate) queue.push(now + delay(), { kind: 'deliver', member: target, topic: e.topic, bytes, from: peer.id });
      }
    },
    fetchBlob: (e, peer, machine) => {
      result(peer, machine, { type: 'blobFetched', job: e.job, ref: e.ref, ok: blobs.has(e.ref.hash) }, taskTime(5, 30));
    },
    storeBlob: (e) => {
      blobs.set(e.ref.hash, e.value);
    },
    train: (e, peer, machine) => {
      const global = blobs.get(e.global.hash) as FakeParams;
      const trained = fakeTrain(global, e.global.hash, peer.id, e.round);
      const ref = store(trained);
      result(peer, machine, { type: 'trained', job: e.job, round: e.round, ref, samples: fakeSamples(peer.id), loss: 0.5, accuracy: 0.5 }, taskTime(50, 400));
    },
    evaluate: (e, peer, machine) => {
      const ev = fakeEvaluate(blobs.get(e.params.hash) as FakeParams, Math.ceil(fakeSamples(peer.id) / 4));
      result(peer, machine, { type: 'evaluated', job: e.job, round: e.round, ...ev }, taskTime(10, 50));
    },
    aggregate: (e, peer, machine) => {
      const entries = asInputs(blobs.get(e.inputs.hash));
      const inputs = entries.map((x) => ({ params: blobs.get(x.ref.hash) as FakeParams, samples: x.samples }));
      aggregations.push({ job: e.job, round: e.round, base: e.base.hash, inputBases: inputs.map((x) => x.params.trainedFrom) });
      // An aggregate counts as trained from the model its job's local-round series started from.
      let lineage = e.base.hash;
      for (let b = blobs.get(lineage) as FakeParams; b.aggJob === e.job && b.trainedFrom; b = blobs.get(lineage) as FakeParams) lineage = b.trainedFrom;
      let agg = fakeAggregate(inputs, e.job, lineage);
      if (e.aggregator.kind === 'dp-fedavg') {
        agg = { ...agg, noise: e.aggregator.noiseSeed };
        noiseSeeds.push({ job: e.job, round: e.round, worker: peer.id, seed: e.aggregator.noiseSeed });
      }
      if (liars.has(peer.id)) agg = fakeLie(agg);
      const ref = store(agg);
      if (liars.has(peer.id)) lies.add(ref.hash);
      result(peer, machine, { type: 'aggregated', job: e.job, round: e.round, attempt: e.attempt, ref }, taskTime(10, 80));
    },
    initParams: (e, peer, machine) => {
      result(peer, machine, { type: 'initialized', job: e.job, ref: store(fakeInit(e.seed)) }, taskTime(5, 20));
    },
    askConsent: (e, peer, machine) => {
      result(peer, machine, { type: 'consent', job: e.job, given: !refusals.has(peer.id) }, taskTime(5, 20));
    },
    loadDataset: (e, peer, machine) => {
      const ok = e.source.kind === 'local' || blobs.has(e.source.index.hash);
      const input: Input = ok ? { type: 'datasetLoaded', job: e.job, samples: fakeSamples(peer.id) } : { type: 'datasetFailed', job: e.job, reason: 'index not found' };
      result(peer, machine, input, taskTime(20, 100));
    },
    prepareDataset: (e, peer, machine) => {
      if (options.datasetUnavailable !== undefined) {
        result(peer, machine, { type: 'datasetFailed', job: tree.root, reason: options.datasetUnavailable }, taskTime(50, 200));
        return;
      }
      const indexes: Record<string, BlobRef> = {};
      for (const j of e.jobs) {
        const index = Object.fromEntries(j.clients.map((c) => [c, { train: store({ shard: c, part: 'train' }), test: store({ shard: c, part: 'test' }), samples: fakeSamples(c) }]));
        indexes[j.job] = store(index);
      }
      result(peer, machine, { type: 'datasetPrepared', indexes }, taskTime(50, 200));
    },
    setTimer: (e, peer, machine) => {
      const tkey = `${peer.id}|${machine.key}|${e.id}`;
      const gen = (timers.get(tkey) ?? 0) + 1;
      timers.set(tkey, gen);
      queue.push(Math.max(now, e.at), { kind: 'timer', member: peer.id, key: machine.key, id: e.id, gen, epoch: epochOf(peer, machine.key) });
    },
    cancelTimer: (e, peer, machine) => {
      const tkey = `${peer.id}|${machine.key}|${e.id}`;
      timers.set(tkey, (timers.get(tkey) ?? 0) + 1);
    },
    persist: (e) => {
      // Through JSON, as a disk would: the restored host must not share objects with the old one.
      checkpoints.set(e.job, JSON.parse(JSON.stringify(e.checkpoint)));
    },
    // The driver restarts hosts only (from their checkpoints); members' journals are not kept.
    journal: () => undefined,
    emitMetric: (e) => {
      metrics.push({ ...e, at: now });
    },
    finished: () => undefined,
  };
  const perform = (peer: Peer, machine: Machine, e: Effect): void => (handlers[e.type] as (e: Effect, peer: Peer, machine: Machine) => void)(e, peer, machine);

  // Real gossip shows a message to every subscriber; the driver skips peers that would drop it
  // unread, which keeps a 1,000-client leaf from costing a million heartbeat deliveries.
  const audiences = new Map<string, string[]>();
  const audience = (topic: string, type: Message['type'], job: string): string[] => {
    const key = `${topic}|${type}`;
    let list = audiences.get(key);
    if (!list) {
      list = [...(subscribers.get(topic) ?? [])].filter((id) => peers.get(id)!.machines.some((m) => m.topics.includes(topic) && wantsMessage(m, type, job)));
      audiences.set(key, list);
    }
    return list;
  };

  const store = (value: unknown): BlobRef => {
    const ref = refOf(value);
    blobs.set(ref.hash, value);
    return ref;
  };

  const deliver = (peer: Peer, ev: Extract<DriverEvent, { kind: 'deliver' }>) => {
    const view = options.blindValidator ? undefined : (job: string) => viewOf(peer.machines, job);
    const verdict = validateMessage(ev.bytes, { from: ev.from, topic: ev.topic, trees, ...(view ? { view } : {}) });
    const label = `${verdict.result}:${verdict.reason}`;
    verdicts.set(label, (verdicts.get(label) ?? 0) + 1);
    if (verdict.result === 'reject') violations.push(`${peer.id} rejected a message from ${ev.from} on ${ev.topic}: ${verdict.reason}`);
    if (verdict.result !== 'accept') return;
    for (const m of [...peer.machines]) {
      if (m.key === ev.exceptKey || !m.topics.includes(ev.topic) || !wantsMessage(m, verdict.message!.type, verdict.message!.job)) continue;
      stepOne(peer, m, { type: 'message', message: verdict.message! });
    }
  };

  for (let at = queue.peekTime(); at !== undefined && at <= maxTime; at = queue.peekTime()) {
    now = at;
    const e = queue.take()!;
    const peer = peers.get(e.member)!;
    if (!peer.alive) continue;
    switch (e.kind) {
      case 'start':
        for (const m of peer.machines) stepOne(peer, m, { type: 'start' });
        break;
      case 'deliver':
        deliver(peer, e);
        break;
      case 'input': {
        const m = peer.machines.find((x) => x.key === e.key);
        if (m && e.epoch === epochOf(peer, e.key)) stepOne(peer, m, e.input);
        break;
      }
      case 'timer': {
        const m = peer.machines.find((x) => x.key === e.key);
        if (!m || e.epoch !== epochOf(peer, e.key) || timers.get(`${peer.id}|${e.key}|${e.id}`) !== e.gen) break;
        stepOne(peer, m, { type: 'timer', id: e.id });
        break;
      }
      case 'kill':
        peer.alive = false;
        killed.add(peer.id);
        break;
      case 'crash': {
        const key = `host:${e.job}`;
        peer.epochs.set(key, epochOf(peer, key) + 1);
        peer.machines = peer.machines.filter((m) => m.key !== key);
        audiences.clear();
        break;
      }
      case 'restore': {
        // A host that crashed before its first checkpoint starts afresh, as a real shell would.
        const checkpoint = checkpoints.get(e.job);
        const m = checkpoint === undefined ? createMachine(tree, 'host', e.job, peer.id, now) : restoreHostMachine(tree, checkpoint, now);
        peer.machines.push(m);
        audiences.clear();
        stepOne(peer, m, { type: 'start' });
        break;
      }
    }
  }

  const finals = new Map<string, string | null>();
  const traces = new Map<string, readonly number[]>();
  let rootFinal: string | null = null;
  let stopReason: string | null = null;
  for (const peer of peers.values()) {
    for (const m of peer.machines) {
      const s = m.state;
      if (s.role === 'client' || s.role === 'worker') {
        finals.set(`${peer.id}/${m.key}`, s.final?.hash ?? null);
        traces.set(`${peer.id}/${m.key}`, s.trace);
      } else if (s.role === 'host') {
        if (s.job === tree.root && s.processStage === 3) {
          rootFinal = s.global?.hash ?? null;
          stopReason = s.stopReason;
        }
        if (s.processStage === 3) finals.set(`${peer.id}/${m.key}`, s.global?.hash ?? null);
      }
    }
  }
  for (const a of aggregations) {
    if (a.inputBases.some((b) => b !== a.base)) violations.push(`${a.job} round ${a.round} aggregated inputs trained from another model`);
  }
  return { tree, endedAt: lastActive, rootFinal, stopReason, finals, traces, killed, metrics, violations, verdicts, aggregations, lies, noiseSeeds };
}
