import type { Effect, EffectHandlers, Input, InputEntry, JobTree } from '@canopy/core/protocol';
import type { Rng } from '@canopy/core/util';
import type { NetworkModel } from '../engine/network.js';
import type { LieKind } from '../scenario/faults.js';
import type { BlobStore } from './blobStore.js';
import type { Peer, Slot } from './peers.js';
import type { DataCounts, Maybe, Trainer } from './trainer.js';
import type { VirtualLoop } from './virtualLoop.js';

/** Virtual seconds one parameter of one input costs an aggregating device of speed 1 (about 1 GFLOP/s). */
export const AGGREGATE_SECONDS_PER_VALUE = 1e-9;
/** How long a fetch from an unreachable or sleeping peer takes to fail, ms. */
export const FETCH_TIMEOUT_MS = 2_000;
const INIT_MS = 50;
const CONSENT_MS = 10;
const LOAD_MS = 500;
const PREPARE_MS = 1_000;

/** The effects that take time: the simulator's shell hands these to {@link ComputeEffects}. */
export type WorkEffectType = 'fetchBlob' | 'train' | 'evaluate' | 'aggregate' | 'initParams' | 'askConsent' | 'loadDataset' | 'prepareDataset';

/** What the compute effects need of the shell that runs them (the simulator's SimShell). */
export interface EffectShell {
  readonly tree: JobTree;
  /** Feeds an input to the peer's machine `key`. */
  input(peer: Peer, key: string, input: Input): void;
  /** Runs `fn` for `peer` at `at` unless it crashed meanwhile; a sleeping device gets it when it wakes. */
  atPeer(peer: Peer, at: number, fn: () => void, asleep: 'defer'): void;
  /** A client crashes while training `job`'s round. */
  crashClient(peer: Peer, job: string, round: number): void;
}

/** The parts of a run the compute effects use. */
export interface ComputeOptions {
  readonly loop: VirtualLoop;
  readonly store: BlobStore;
  readonly trainer: Trainer;
  readonly network: NetworkModel;
  readonly peers: Map<string, Peer>;
  readonly liars: ReadonlySet<string>;
  readonly lie: LieKind;
  readonly observer: { onBlob?(job: string, bytes: number): void };
}

/**
 * The effects that take time: blob fetches (size ÷ bandwidth through the network model) and
 * ML work (the trainer computes the result; the device profile sets when it arrives).
 * Training is where clients crash and straggle, as the profile (or the scenario's faults) says.
 */
export class ComputeEffects {
  private readonly data = new Map<string, DataCounts>();

  constructor(
    private readonly shell: EffectShell,
    private readonly o: ComputeOptions,
    private readonly rng: Rng,
  ) {}

  /** One handler per effect that takes time; the shell's table spreads these in (simShell.ts). */
  readonly handlers: Pick<EffectHandlers<[peer: Peer, slot: Slot]>, WorkEffectType> = {
    fetchBlob: (w, peer, slot) => {
      const now = this.o.loop.now;
      const at = this.fetchArrival(w.from ?? this.o.store.origin(w.ref.hash), peer, w.ref.hash, w.job);
      const ok = at !== undefined;
      this.settle(peer, slot.machine.key, at ?? now + FETCH_TIMEOUT_MS, () => ok, (v) => ({ type: 'blobFetched', job: w.job, ref: w.ref, ok: v }), () => null);
    },
    train: (w, peer, slot) => {
      const now = this.o.loop.now;
      const t = this.o.trainer;
      const samples = this.data.get(`${peer.id}|${w.job}`)?.train ?? 1;
      let ms = (samples * w.train.epochs * t.secondsPerSample * 1000) / peer.profile.speed;
      if (this.rng.float() < peer.profile.stragglerProbability) ms *= peer.profile.stragglerSlowdown;
      if (peer.crashPerRound > 0 && this.rng.float() < peer.crashPerRound) {
        const epoch = peer.epoch;
        this.o.loop.at(now + this.rng.float() * ms, () => {
          if (peer.epoch === epoch) this.shell.crashClient(peer, w.job, w.round);
        });
      }
      this.settle(peer, slot.machine.key, now + ms, () => t.train(peer.id, peer.shard, w), (r) => ({ type: 'trained', job: w.job, round: w.round, ...r }), (reason) => ({ type: 'taskFailed', job: w.job, task: 'train', round: w.round, reason }));
    },
    evaluate: (w, peer, slot) => {
      const t = this.o.trainer;
      const test = this.data.get(`${peer.id}|${w.job}`)?.test ?? 1;
      const ms = (test * t.secondsPerSample * 1000) / 3 / peer.profile.speed; // a forward pass only
      this.settle(peer, slot.machine.key, this.o.loop.now + ms, () => t.evaluate(peer.id, w), (r) => ({ type: 'evaluated', job: w.job, round: w.round, ...r }), (reason) => ({ type: 'taskFailed', job: w.job, task: 'evaluate', round: w.round, reason }));
    },
    aggregate: (w, peer, slot) => {
      const t = this.o.trainer;
      const at = this.aggregateDone(peer, w);
      const lie = this.o.liars.has(peer.id) ? this.o.lie : null;
      this.settle(
        peer,
        slot.machine.key,
        at,
        () => t.aggregate(peer.id, w, lie),
        (ref) => ({ type: 'aggregated', job: w.job, round: w.round, attempt: w.attempt, ref }),
        (reason) => ({ type: 'taskFailed', job: w.job, task: 'aggregate', round: w.round, reason }),
      );
    },
    initParams: (w, peer, slot) => {
      const t = this.o.trainer;
      this.settle(peer, slot.machine.key, this.o.loop.now + INIT_MS / peer.profile.speed, () => t.init(peer.id, w), (ref) => ({ type: 'initialized', job: w.job, ref }), (reason) => ({ type: 'taskFailed', job: w.job, task: 'initParams', round: 0, reason }));
    },
    askConsent: (w, peer, slot) => {
      // Scenarios model data owners who agreed beforehand (refusals belong to the protocol tests).
      this.settle(peer, slot.machine.key, this.o.loop.now + CONSENT_MS, () => true, (given) => ({ type: 'consent', job: w.job, given }), () => null);
    },
    loadDataset: (w, peer, slot) => {
      const t = this.o.trainer;
      this.settle(
        peer,
        slot.machine.key,
        this.o.loop.now + LOAD_MS / peer.profile.speed,
        () => t.loadData(peer.id, w),
        (counts) => {
          this.data.set(`${peer.id}|${w.job}`, counts);
          return { type: 'datasetLoaded', job: w.job, samples: counts.train };
        },
        (reason) => ({ type: 'datasetFailed', job: w.job, reason }),
      );
    },
    prepareDataset: (w, peer, slot) => {
      const t = this.o.trainer;
      this.settle(peer, slot.machine.key, this.o.loop.now + PREPARE_MS, () => t.prepare(peer.id, w), (indexes) => ({ type: 'datasetPrepared', indexes }), (reason) => ({ type: 'datasetFailed', job: this.shell.tree.root, reason }));
    },
  };

  /** When a blob from `source` has fully reached `peer`; undefined if it cannot be had. */
  private fetchArrival(source: string | undefined, peer: Peer, hash: string, job: string): number | undefined {
    const now = this.o.loop.now;
    if (!this.o.store.has(hash)) return undefined;
    const from = source === undefined ? undefined : this.o.peers.get(source);
    if (from && from !== peer && (from.down || (from.availability && !from.availability.onlineAt(now)))) return undefined;
    if (!from || from === peer) return now;
    const size = this.o.store.size(hash);
    const at = this.o.network.deliverBlob(from.link, peer.link, size, now);
    if (at !== undefined) this.o.observer.onBlob?.(job, size);
    return at;
  }

  /**
   * When a worker's aggregate is ready: it fetches the inputs blob from the host, then every
   * input from the node that stored it (in parallel; each sender's uplink is serialised by
   * the network model), then aggregates at its device's speed.
   */
  private aggregateDone(peer: Peer, e: Extract<Effect, { type: 'aggregate' }>): number {
    const now = this.o.loop.now;
    const host = this.shell.tree.jobs.get(e.job)?.host;
    let ready = this.fetchArrival(host, peer, e.inputs.hash, e.job) ?? now + FETCH_TIMEOUT_MS;
    const body = this.o.store.body(e.inputs.hash);
    const entries = body?.kind === 'json' ? (body.value as InputEntry[]) : [];
    for (const entry of entries) {
      // As fetchArrival: an input from this worker itself, or from no simulated node, costs no transfer.
      const origin = this.o.store.origin(entry.ref.hash);
      const from = origin === undefined ? undefined : this.o.peers.get(origin);
      if (!from || from === peer) continue;
      const size = this.o.store.size(entry.ref.hash);
      const at = this.o.network.deliverBlob(from.link, peer.link, size, now);
      this.o.observer.onBlob?.(e.job, size);
      if (at !== undefined) ready = Math.max(ready, at);
    }
    return ready + (entries.length * this.o.trainer.params * AGGREGATE_SECONDS_PER_VALUE * 1000) / peer.profile.speed;
  }

  /**
   * Computes a result now and hands it to the machine at virtual time `at`. A promise (real
   * training) holds the loop at `at` until it settles; a failure becomes `fail`'s input.
   */
  private settle<T>(peer: Peer, key: string, at: number, compute: () => Maybe<T>, ok: (v: T) => Input, fail: (reason: string) => Input | null): void {
    const deliver = (r: { value: T } | { error: unknown }) => {
      const input = 'value' in r ? ok(r.value) : fail(r.error instanceof Error ? r.error.message : String(r.error));
      if (input) this.shell.input(peer, key, input);
    };
    let value: Maybe<T>;
    try {
      value = compute();
    } catch (error) {
      this.shell.atPeer(peer, at, () => deliver({ error }), 'defer');
      return;
    }
    if (!(value instanceof Promise)) {
      const v = value;
      this.shell.atPeer(peer, at, () => deliver({ value: v }), 'defer');
      return;
    }
    let result: { value: T } | { error: unknown } = { error: new Error('computation did not finish') };
    const settled = value.then(
      (v) => {
        result = { value: v };
      },
      (error: unknown) => {
        result = { error };
      },
    );
    this.o.loop.hold(at, settled);
    this.shell.atPeer(peer, at, () => deliver(result), 'defer');
  }
}
