import {
  createMachine,
  createMachines,
  restoreHostMachine,
  stepMachine,
  seededSecretBytes,
  validateMessage,
  wantsMessage,
  MAX_MESSAGE_BYTES,
  type Effect,
  type EffectHandlers,
  type EmitMetricEffect,
  type FinishedEffect,
  type Input,
  type JobTree,
  type MachineState,
  type Message,
  type MessageInput,
  type Verdict,
} from '@canopy/core/protocol';
import { Rng, hash32 } from '@canopy/core/util';
import { ComputeEffects, type ComputeOptions, type EffectShell } from './computeEffects.js';
import { slotsOf, type Peer, type Slot } from './peers.js';

/** What the shell tells whoever records the run. All optional. */
export interface ShellObserver {
  /** A message passed validation and went out to `deliveries` receivers. */
  onPublish?(from: Peer, state: MachineState, message: Message, bytes: number, deliveries: number): void;
  /** Blob bytes moved for a job. */
  onBlob?(job: string, bytes: number): void;
  onMetric?(metric: EmitMetricEffect, member: string): void;
  /** A client crashed while training `job`'s round `round`. */
  onCrash?(member: string, job: string, round: number): void;
  onHostCrash?(member: string, restartAfterMs: number | null): void;
  onFinished?(member: string, effect: FinishedEffect): void;
}

/** A host crash the scenario injects. */
export interface HostCrash {
  readonly host: string;
  readonly atMs: number;
  readonly restartAfterMs: number | null;
}

/** Everything a shell runs on: what its compute effects use, and the rest. */
export interface ShellOptions extends ComputeOptions {
  readonly tree: JobTree;
  readonly seed: number;
  readonly hostCrashes: readonly HostCrash[];
  readonly observer: ShellObserver;
}

/** How long a crashed client takes to come back once its cluster has moved on, ms. */
const REBOOT_MS = 2_000;

/**
 * The simulator's shell over the core's pure machines (PROTOCOL.md §8), in virtual time:
 * the same contract as the in-memory driver and the libp2p runtime. Messages are encoded,
 * validated by the protocol's own validator and delivered through the network model; the
 * ML effects go to the trainer, with durations from each device's profile
 * (computeEffects.ts). Devices sleep (availability), clients crash mid-round, hosts crash
 * and restore from their checkpoints.
 */
export class SimShell implements EffectShell {
  readonly tree: JobTree;
  /** Validator verdicts other than accept, by `result:reason`. */
  readonly verdicts = new Map<string, number>();
  /** Messages the validator rejected: an honest run has none. */
  readonly violations: string[] = [];
  private readonly o: ShellOptions;
  private readonly trees: Map<string, JobTree>;
  private readonly subscribers = new Map<string, Peer[]>();
  private readonly audiences = new Map<string, Map<Message['type'], Peer[]>>();
  private readonly crashedByJob = new Map<string, Set<Peer>>();
  private readonly checkpoints = new Map<string, Map<string, unknown>>();
  private readonly handlers: EffectHandlers<[peer: Peer, slot: Slot]>;
  private readonly spareDeliveries: Delivery[] = [];
  private readonly rebootRng: Rng;

  constructor(options: ShellOptions) {
    this.o = options;
    this.tree = options.tree;
    this.trees = new Map([[options.tree.rootId, options.tree]]);
    const rng = Rng.fromSeed(options.seed);
    this.rebootRng = rng.fork('reboot');
    const compute = new ComputeEffects(this, options, rng.fork('compute'));
    // One handler per effect type (PROTOCOL.md §8): a type missing here does not compile.
    this.handlers = {
      publish: (e, peer, slot) => this.publish(peer, slot, e.topic, e.message),
      storeBlob: (e, peer) => this.o.store.put(e.ref, { kind: 'json', value: e.value }, peer.id),
      setTimer: (e, peer, slot) => {
        const gen = (slot.timers.get(e.id) ?? 0) + 1;
        slot.timers.set(e.id, gen);
        this.o.loop.at(e.at, new TimerFire(this, peer, slot, e.id, gen));
      },
      cancelTimer: (e, _peer, slot) => {
        slot.timers.set(e.id, (slot.timers.get(e.id) ?? 0) + 1);
      },
      // Only hosts the scenario will crash need their checkpoints kept.
      persist: (e, peer) => this.checkpoints.get(peer.id)?.set(e.job, e.checkpoint),
      // Simulated crashes take hosts only; members' journals need no keeping here.
      journal: () => undefined,
      emitMetric: (e, peer) => this.o.observer.onMetric?.(e, peer.id),
      finished: (e, peer) => this.o.observer.onFinished?.(peer.id, e),
      ...compute.handlers,
    };
    for (const peer of options.peers.values()) {
      for (const s of peer.slots) for (const t of s.machine.topics) (this.subscribers.get(t) ?? this.subscribers.set(t, []).get(t)!).push(peer);
    }
    for (const c of options.hostCrashes) this.checkpoints.set(c.host, new Map());
  }

  /** Starts every node (staggered over the first quarter second, as real processes are) and arms the host crashes. */
  start(): void {
    for (const peer of this.o.peers.values()) {
      this.atPeer(peer, (hash32(peer.id) >>> 0) % 256, () => {
        for (const s of peer.slots) this.step(peer, s, { type: 'start' });
      }, 'defer');
    }
    for (const c of this.o.hostCrashes) {
      const peer = this.o.peers.get(c.host);
      if (peer) this.o.loop.at(c.atMs, () => this.crashHost(peer, c.restartAfterMs));
    }
  }

  /**
   * Runs `fn` for `peer` at `at`, unless the peer crashed or restarted meanwhile. A device
   * that is asleep then gets it when it wakes (`defer`: timers, its own computations) or
   * never (`drop`: messages sent to it while it slept).
   */
  atPeer(peer: Peer, at: number, fn: () => void, asleep: 'defer' | 'drop'): void {
    const epoch = peer.epoch;
    const run = () => {
      const wake = this.wakeOf(peer, epoch);
      if (wake === undefined) fn();
      else if (wake !== null && asleep === 'defer') this.o.loop.at(wake, run);
    };
    this.o.loop.at(at, run);
  }

  /**
   * Whether an event scheduled for `peer` in `epoch` runs now: undefined when the peer is up
   * and awake; null when it crashed or restarted since (the event is void); else the virtual
   * time its device wakes. atPeer, timers and deliveries all decide by it.
   */
  private wakeOf(peer: Peer, epoch: number): number | null | undefined {
    if (peer.epoch !== epoch || peer.down) return null;
    const now = this.o.loop.now;
    return peer.availability && !peer.availability.onlineAt(now) ? peer.availability.nextOnline(now) : undefined;
  }

  /** Feeds an input to the peer's machine `key` (if it still has it). */
  input(peer: Peer, key: string, input: Input): void {
    const slot = peer.slots.find((s) => s.machine.key === key);
    if (slot) this.step(peer, slot, input);
  }

  /** Steps one machine and carries out its effects. */
  step(peer: Peer, slot: Slot, input: Input): void {
    slot.rng ??= Rng.fromSeed(machineSeed(this.o.seed, peer.id, slot.machine.key));
    const { state, effects } = stepMachine(slot.machine.state, input, { now: this.o.loop.now, rng: slot.rng, secretBytes: seededSecretBytes(slot.rng) });
    slot.machine.state = state;
    for (const e of effects) this.perform(peer, slot, e);
  }

  private perform(peer: Peer, slot: Slot, e: Effect): void {
    (this.handlers[e.type] as (e: Effect, peer: Peer, slot: Slot) => void)(e, peer, slot);
  }

  /**
   * Publishes: encodes once (its size is what the network carries), validates once with the
   * receivers' validator, then delivers to every subscriber whose machines act on the type
   * (PROTOCOL.md §8: a peer's own other machines get it too). Receivers run the same
   * validator over the same trees, so one verdict stands for all of them; the stale checks
   * that depend on a receiver's view are repeated by its machines (§4).
   */
  private publish(peer: Peer, slot: Slot, topic: string, message: Message): void {
    const { bytes, verdict } = this.encode(peer, slot, topic, message);
    if (verdict.result !== 'accept') {
      const label = `${verdict.result}:${verdict.reason}`;
      this.verdicts.set(label, (this.verdicts.get(label) ?? 0) + 1);
      if (verdict.result === 'reject') this.violations.push(`${peer.id} sent a message on ${topic} that receivers reject: ${verdict.reason}`);
      return;
    }
    const msg = verdict.message!;
    const loop = this.o.loop;
    const net = this.o.network;
    // One input for every receiver: machines read their inputs and keep none.
    const input: MessageInput = { type: 'message', message: msg };
    for (const other of peer.slots) {
      if (other === slot || !other.machine.topics.includes(topic) || !wantsMessage(other.machine, msg.type, msg.job)) continue;
      this.atPeer(peer, loop.now, () => this.step(peer, other, input), 'defer');
    }
    let deliveries = 0;
    for (const target of this.audience(topic, msg)) {
      if (target === peer) continue;
      const before = net.messages;
      const arrival = net.deliverMessage(peer.link, target.link, bytes, loop.now);
      if (net.messages > before) deliveries++;
      if (arrival !== undefined) this.deliverAt(target, arrival, topic, input);
    }
    this.o.observer.onPublish?.(peer, slot.machine.state, msg, bytes, deliveries);
    if (msg.type === 'state' && msg.role === 'host') this.rebootCrashed(msg.job, msg.round);
  }

  /**
   * A message's size on the wire and the receivers' verdict. A machine's repeat of its last
   * accepted message of the same type on the same topic (a heartbeat, a resent submission,
   * an unchanged snapshot) skips encoding: it is compared field by field, seq aside, with the
   * decoded copy receivers got, so when equal its JSON differs only in the seq's digits, and
   * its verdict and decoded fields are the same.
   */
  private encode(peer: Peer, slot: Slot, topic: string, message: Message): { bytes: number; verdict: Verdict } {
    const last = slot.lastAccepted?.get(message.type);
    if (last && last.topic === topic && isPlainSeq(message.seq) && last.bytes < MAX_MESSAGE_BYTES - 32 && sameBesidesSeq(message, last.message)) {
      const bytes = last.bytes - decimalDigits(last.message.seq) + decimalDigits(message.seq);
      return { bytes, verdict: { result: 'accept', reason: last.reason, message: { ...last.message, seq: message.seq } } };
    }
    const text = JSON.stringify(message);
    const bytes = Buffer.byteLength(text);
    const verdict = this.validate(peer.id, topic, text);
    if (verdict.result === 'accept' && isPlainSeq(verdict.message!.seq)) {
      (slot.lastAccepted ??= new Map()).set(message.type, { topic, bytes, reason: verdict.reason, message: verdict.message! });
    }
    return { bytes, verdict };
  }

  /**
   * The validator's verdict on a message that is not a plain repeat. (Verdicts are not
   * cached: a message that is not its machine's plain repeat is nearly always new. At
   * scale-10k, 193 of 153,449 such messages had been seen before, seq aside.)
   */
  private validate(from: string, topic: string, text: string): Verdict {
    return validateMessage(text, { from, topic, trees: this.trees });
  }

  // atPeer(peer, at, deliver, 'drop') without a closure: it runs per delivery, close to a
  // million times at 10,000 clients, and each delivery waits long enough in the queue to
  // outlive a young-generation collection. Deliveries are pooled and reused instead.
  private deliverAt(peer: Peer, at: number, topic: string, input: MessageInput): void {
    const d = this.spareDeliveries.pop() ?? new Delivery(this);
    d.peer = peer;
    d.epoch = peer.epoch;
    d.topic = topic;
    d.input = input;
    this.o.loop.at(at, d);
  }

  /** A timer's time came: as {@link atPeer} with `defer`; the machine gets it unless it was re-armed or cancelled. */
  fire(t: TimerFire): void {
    const { peer, slot } = t;
    const wake = this.wakeOf(peer, t.epoch);
    if (wake === undefined) {
      if (slot.timers.get(t.id) === t.gen) this.step(peer, slot, { type: 'timer', id: t.id });
    } else if (wake !== null) this.o.loop.at(wake, t);
  }

  /** A pooled delivery's time came: free the delivery, and hand its message to the peer unless it crashed or sleeps (then it is lost). */
  arrive(d: Delivery): void {
    const { peer, epoch, topic, input } = d;
    d.peer = undefined;
    d.input = undefined;
    this.spareDeliveries.push(d);
    if (peer && input && this.wakeOf(peer, epoch) === undefined) this.deliver(peer, topic, input);
  }

  private deliver(peer: Peer, topic: string, input: MessageInput): void {
    const msg = input.message;
    for (const s of peer.slots) {
      if (s.machine.topics.includes(topic) && wantsMessage(s.machine, msg.type, msg.job)) this.step(peer, s, input);
    }
  }

  // Gossip shows a message to every subscriber; peers whose machines would drop it unread
  // are skipped, which keeps a 1,000-client leaf from costing a million heartbeat deliveries.
  // Cached by topic, then type: an accepted message's job is its topic's (the envelope rule).
  private audience(topic: string, msg: Message): Peer[] {
    let byType = this.audiences.get(topic);
    if (!byType) this.audiences.set(topic, (byType = new Map()));
    let list = byType.get(msg.type);
    if (!list) {
      list = (this.subscribers.get(topic) ?? []).filter((p) => p.slots.some((s) => s.machine.topics.includes(topic) && wantsMessage(s.machine, msg.type, msg.job)));
      byType.set(msg.type, list);
    }
    return list;
  }

  /** A client crashes while training: it goes silent until its cluster has moved past the round. */
  crashClient(peer: Peer, job: string, round: number): void {
    if (peer.down) return;
    peer.down = true;
    peer.epoch++;
    peer.crashedIn = { job, round };
    (this.crashedByJob.get(job) ?? this.crashedByJob.set(job, new Set()).get(job)!).add(peer);
    this.o.observer.onCrash?.(peer.id, job, round);
  }

  // A crashed client rejoins once its host is in a later round (the crash cost it that round).
  private rebootCrashed(job: string, round: number): void {
    const crashed = this.crashedByJob.get(job);
    if (!crashed || crashed.size === 0) return;
    for (const peer of [...crashed]) {
      if (peer.crashedIn!.round >= round) continue;
      crashed.delete(peer);
      const at = this.o.loop.now + REBOOT_MS * (0.5 + this.rebootRng.float());
      this.o.loop.at(at, () => this.restart(peer, new Map()));
    }
  }

  private crashHost(peer: Peer, restartAfterMs: number | null): void {
    if (peer.down) return;
    peer.down = true;
    peer.epoch++;
    // Through JSON, as a disk would: the restored host must share nothing with the old one.
    const saved = new Map([...(this.checkpoints.get(peer.id) ?? new Map<string, unknown>())].map(([job, c]) => [job, JSON.parse(JSON.stringify(c)) as unknown]));
    this.o.observer.onHostCrash?.(peer.id, restartAfterMs);
    if (restartAfterMs !== null) this.o.loop.after(restartAfterMs, () => this.restart(peer, saved));
  }

  /** Restarts a node: hosts resume from their checkpoints (or afresh), other roles start over. */
  private restart(peer: Peer, checkpoints: ReadonlyMap<string, unknown>): void {
    const now = this.o.loop.now;
    const machines = createMachines(this.tree, peer.id, now).map((m) => {
      const c = m.role === 'host' ? checkpoints.get(m.job) : undefined;
      return c === undefined ? createMachine(this.tree, m.role, m.job, peer.id, now) : restoreHostMachine(this.tree, c, now);
    });
    peer.slots = slotsOf(machines);
    peer.down = false;
    peer.crashedIn = null;
    peer.epoch++;
    this.atPeer(peer, now, () => {
      for (const s of peer.slots) this.step(peer, s, { type: 'start' });
    }, 'defer');
  }
}

/** A machine's timer as a loop event: one object where a closure pair would be, as timers are a third of a run's events. */
class TimerFire {
  readonly epoch: number;

  constructor(
    private readonly shell: SimShell,
    readonly peer: Peer,
    readonly slot: Slot,
    readonly id: string,
    readonly gen: number,
  ) {
    this.epoch = peer.epoch;
  }

  run(): void {
    this.shell.fire(this);
  }
}

/** A message on its way to one peer, as a loop event; the shell reuses it once it ran. */
class Delivery {
  peer: Peer | undefined;
  epoch = 0;
  topic = '';
  input: MessageInput | undefined;

  constructor(private readonly shell: SimShell) {}

  run(): void {
    this.shell.arrive(this);
  }
}

/** How many digits JSON writes for a non-negative safe integer (String(n).length without the string). */
export function decimalDigits(n: number): number {
  let d = 1;
  while (n >= 10) {
    n = Math.floor(n / 10);
    d++;
  }
  return d;
}

// A seq whose JSON is its plain decimal digits.
function isPlainSeq(seq: number): boolean {
  return Number.isSafeInteger(seq) && seq >= 0;
}

/** Whether `a` (as a machine made it) and `decoded` (parsed from JSON) encode alike, seq aside. */
export function sameBesidesSeq(a: Message, decoded: Message): boolean {
  const x = a as unknown as Record<string, unknown>;
  const y = decoded as unknown as Record<string, unknown>;
  let n = 0;
  for (const k in x) {
    n++;
    if (k !== 'seq' && (!Object.hasOwn(y, k) || !jsonEqual(x[k], y[k]))) return false;
  }
  return n === keyCount(y);
}

// `y` comes from JSON.parse, so it holds only finite numbers, strings, booleans, null, arrays
// and plain objects; `x` equal to it (undefined members and NaN never are) encodes the same.
// Loops rather than Object.keys: this runs on every repeated publish, and allocates nothing.
function jsonEqual(x: unknown, y: unknown): boolean {
  if (x === y) return true;
  if (typeof x !== 'object' || typeof y !== 'object' || x === null || y === null) return false;
  if (Array.isArray(y)) {
    if (!Array.isArray(x) || x.length !== y.length) return false;
    for (let i = 0; i < y.length; i++) if (!jsonEqual(x[i], y[i])) return false;
    return true;
  }
  if (Array.isArray(x)) return false;
  const a = x as Record<string, unknown>;
  const b = y as Record<string, unknown>;
  let n = 0;
  for (const k in a) {
    n++;
    if (!Object.hasOwn(b, k) || !jsonEqual(a[k], b[k])) return false;
  }
  return n === keyCount(b);
}

function keyCount(o: Record<string, unknown>): number {
  let n = 0;
  for (const _ in o) n++;
  return n;
}

/**
 * The seed of one machine's random stream: from the simulation's seed, the member and the
 * machine. Fidelity mode gives real nodes the same seeds, so both draw the same samples.
 */
export function machineSeed(simulationSeed: number, member: string, machineKey: string): number {
  return hash32(`${simulationSeed}:${member}:${machineKey}`);
}
