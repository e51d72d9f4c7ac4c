import type { Role } from '../../protocol/jobSheet.js';
import type { BlobRef } from '../../protocol/messages/common.js';
import type { ConsentReceipt } from '../consent.js';
import type { Reachability } from '../../net/network.js';

/** What a {@link CanopyNode} reports, by event name (`noun:verb`). */
export interface CanopyNodeEvents {
  /** This node took up a job (a new submission or announce, or one resumed from disk). */
  'job:started': { rootId: string; name: string; member: string; roles: { role: Role; job: string }[]; resumed: boolean };
  /** Every machine this node ran for the job is done. */
  'job:finished': { rootId: string; name: string; final: BlobRef | null; reason: string };
  /** One role's machine finished. */
  'machine:finished': { rootId: string; job: string; role: Role; final: BlobRef | null; reason: string };
  /** A host closed a round (the protocol's `round` metric). */
  'round:finished': { rootId: string; job: string; round: number; values: Readonly<Record<string, number | string>> };
  /** Any other protocol metric. */
  metric: { rootId: string; name: string; job: string; round: number; values: Readonly<Record<string, number | string>> };
  /** A host of this node published a state snapshot. */
  'state:published': { rootId: string; job: string; round: number; processStage: number; global: BlobRef | null };
  /** A host of this node handed a message to gossip; `named` is the parameter blob it names (it holds it by now, §11). */
  'host:gossiped': { rootId: string; job: string; type: string; round: number; named: BlobRef | null };
  /** A gossip message was rejected (non-member, forged, malformed, incoherent). */
  'message:rejected': { rootId: string; topic: string; from: string; reason: string };
  /** The runtime recorded a consent decision (by policy or flag, or the owner's answer when the app did not record it). */
  'consent:recorded': { rootId: string; receipt: ConsentReceipt };
  /** Local training reported progress within a round (about 20 times per epoch). */
  'train:progress': { rootId: string; job: string; round: number; epoch: number; epochs: number; batch: number; batches: number; samplesPerSec: number };
  /** A message left this node, with the blobs it offers for download and who receives it. */
  'outbox:sent': { rootId: string; job: string; round: number; type: string; bytes: number; blobs: BlobRef[]; recipients: string[] };
  /** A training task measured the compute backend's throughput. */
  'backend:measured': { backend: string; samplesPerSec: number };
  /** This node withdrew from a job (its owner revoked consent); it stays silent from then on. */
  'job:withdrawn': { rootId: string; job: string; reason: string };
  /** A compute task finished on this node. */
  'task:done': { rootId: string; job: string; task: 'train' | 'evaluate' | 'aggregate' | 'initParams' | 'loadDataset'; round: number; ms: number };
  /** The owner started or stopped using this computer ("only while idle"): while `ownerActive`, training and evaluation are paused; `held` tasks wait. */
  'owner:activity': { ownerActive: boolean; held: number };
  /** How others can reach this node changed (AutoNAT confirmed an address, a relay slot came or went). */
  'node:reachability': Reachability;
}

type Listener<T> = (detail: T) => void;

/** A small typed event emitter; a throwing listener never breaks the node. */
export class TypedEmitter<E extends object> {
  private readonly listeners = new Map<keyof E, Set<Listener<never>>>();

  on<K extends keyof E>(name: K, fn: Listener<E[K]>): () => void {
    let set = this.listeners.get(name);
    if (!set) this.listeners.set(name, (set = new Set()));
    set.add(fn as Listener<never>);
    return () => this.off(name, fn);
  }

  /** Whether anyone listens to `name` (to skip building a costly event nobody reads). */
  listening<K extends keyof E>(name: K): boolean {
    return (this.listeners.get(name)?.size ?? 0) > 0;
  }

  off<K extends keyof E>(name: K, fn: Listener<E[K]>): void {
    this.listeners.get(name)?.delete(fn as Listener<never>);
  }

  /** Resolves with the first event for which `match` holds. */
  once<K extends keyof E>(name: K, match: (d: E[K]) => boolean = () => true, signal?: AbortSignal): Promise<E[K]> {
    return new Promise((resolve, reject) => {
      const off = this.on(name, (d) => {
        if (!match(d)) return;
        off();
        resolve(d);
      });
      signal?.addEventListener('abort', () => {
        off();
        reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
      }, { once: true });
    });
  }

  emit<K extends keyof E>(name: K, detail: E[K]): void {
    for (const fn of [...(this.listeners.get(name) ?? [])]) {
      try {
        (fn as Listener<E[K]>)(detail);
      } catch {
        // A listener's bug is its own; the node keeps running.
      }
    }
  }
}
