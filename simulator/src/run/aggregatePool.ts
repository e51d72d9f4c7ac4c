import { availableParallelism } from 'node:os';
import { WorkerPool, threadScript } from '@canopy/core/compute';
import { CanopyError, ErrorCode } from '@canopy/core/util';
import {
  AGGREGATE_TASK,
  CLAIMED_BY_MAIN,
  UNCLAIMED,
  computeAggregateTask,
  type AggregateTask,
  type AggregateTaskResult,
  type SentVector,
  type ThreadInput,
} from './aggregateTasks.js';

/**
 * Parameters from which `aggregateThreads: auto` moves synthetic aggregation to a thread.
 * Handing one aggregation over costs the main thread a fixed ~50–100 µs (posting the task,
 * receiving and hashing the result, the loop's wait on the promise), while the work it
 * hands over is ~5–10 ns per parameter per input. At 4,096 parameters a cluster of a few
 * inputs is already ~100 µs of arithmetic, and the scale scenarios (P = 10,000, 100 inputs)
 * ~5–10 ms; below it, the hand-over costs about what it saves.
 */
export const AGGREGATE_THREAD_MIN_PARAMS = 4096;

/** Vectors a thread keeps beyond those the current task needs: a round's globals, with room for late attempts. */
const VECTORS_PER_THREAD = 16;

/**
 * Aggregation threads for a scenario's `training.aggregateThreads`: `auto` is one thread
 * when there is a second core and vectors of at least {@link AGGREGATE_THREAD_MIN_PARAMS}.
 */
export function aggregateThreadCount(setting: number | 'auto', params: number, cores = availableParallelism()): number {
  if (setting !== 'auto') return setting;
  return cores >= 2 && params >= AGGREGATE_THREAD_MIN_PARAMS ? 1 : 0;
}

/** An aggregation for a thread: the task without the vector bookkeeping, which the pool does. */
export type AggregateRequest = Omit<AggregateTask, 'vectors' | 'forget' | 'claim'>;

interface Lane {
  readonly pool: WorkerPool;
  /** Hashes of the vectors the thread holds, least recently used first (the thread does what `forget` says). */
  readonly held: Set<string>;
  running: number;
}

/** An aggregation handed to a thread and not yet settled. */
interface Outstanding {
  readonly request: AggregateRequest;
  readonly vectors: ReadonlyMap<string, Float32Array>;
  /** The task's claim word (aggregateTasks.ts), shared with the thread. */
  readonly claim: Int32Array;
  settled: boolean;
  resolve(bytes: Uint8Array): void;
  reject(error: unknown): void;
}

/**
 * Threads that run the synthetic mode's stateless aggregations (aggregateTasks.ts) while
 * the main thread runs protocol events. Each thread is a one-thread {@link WorkerPool}, so
 * this pool knows which vectors each holds and sends every vector to a thread once.
 * Results do not depend on which thread computes them, or when.
 *
 * A round's aggregations come in bursts (a hundred sites close within seconds of one
 * another) and the simulation soon needs their results. When the main thread would only
 * wait for one, {@link helpOne} lets it compute a task no thread has started yet, so both
 * cores work through the burst.
 */
export class AggregatePool {
  private readonly lanes: Lane[] = [];
  private outstanding: Outstanding[] = [];
  private stopped = false;

  /** Starts `threads` aggregation threads (from simulator/dist: run `npm run build` first when running from sources). */
  constructor(threads: number) {
    const script = threadScript(import.meta.url, 'aggregateThread.js');
    for (let i = 0; i < Math.max(1, threads); i++) this.lanes.push({ pool: new WorkerPool({ script, size: 1 }), held: new Set(), running: 0 });
  }

  get threads(): number {
    return this.lanes.length;
  }

  /**
   * Aggregates on the least busy thread and resolves with the encoded result. `vectors`
   * holds the base and every global the recipes name, by hash; those the thread already
   * holds are not sent again. Rejects with the thread's error, or if the pool stops first.
   */
  aggregate(request: AggregateRequest, vectors: ReadonlyMap<string, Float32Array>): Promise<Uint8Array> {
    if (this.stopped) return Promise.reject(new CanopyError(ErrorCode.Aborted, 'the aggregation threads are stopped'));
    const lane = this.lanes.reduce((a, b) => (b.running < a.running ? b : a));
    const transfer: ArrayBuffer[] = [];
    const sent: SentVector[] = [];
    for (const [hash, values] of vectors) {
      if (lane.held.delete(hash)) {
        lane.held.add(hash); // most recently used: forgotten last
        continue;
      }
      // A copy: the store's decoded vector stays readable here while the copy moves.
      const copy = values.slice();
      sent.push({ hash, values: copy });
      transfer.push(copy.buffer);
      lane.held.add(hash);
    }
    const forget: string[] = [];
    for (const hash of lane.held) {
      if (lane.held.size <= VECTORS_PER_THREAD) break;
      if (vectors.has(hash)) continue;
      lane.held.delete(hash);
      forget.push(hash);
    }
    const inputs = request.inputs.map((input): ThreadInput => {
      if (input.kind !== 'bytes') return input;
      const bytes = input.bytes.slice();
      transfer.push(bytes.buffer);
      return { ...input, bytes };
    });
    const claim = new SharedArrayBuffer(4);
    const task: AggregateTask = { ...request, inputs, vectors: sent, forget, claim };
    let entry!: Outstanding;
    const result = new Promise<Uint8Array>((resolve, reject) => {
      entry = { request, vectors, claim: new Int32Array(claim), settled: false, resolve, reject };
    });
    this.outstanding.push(entry);
    lane.running++;
    lane.pool.run<AggregateTaskResult>(AGGREGATE_TASK, task, { transfer }).then(
      (r) => {
        lane.running--;
        // null: the main thread took the task back and has settled it.
        if (r.bytes === null || entry.settled) return;
        entry.settled = true;
        this.dropSettled();
        entry.resolve(r.bytes);
      },
      (error: unknown) => {
        lane.running--;
        // The thread may have died and been replaced with an empty one: send everything again.
        if (!this.stopped) lane.held.clear();
        if (entry.settled) return;
        entry.settled = true;
        this.dropSettled();
        entry.reject(this.stopped ? new CanopyError(ErrorCode.Aborted, 'the aggregation threads were stopped before the aggregation finished') : error);
      },
    );
    return result;
  }

  /**
   * Computes, in this thread, the oldest aggregation no thread has started, and settles it
   * as the thread would have. Returns false when every outstanding aggregation is already
   * running (or none is left). The simulation loop calls this instead of idling while it
   * waits for a result.
   */
  helpOne(): boolean {
    this.dropSettled();
    for (const o of this.outstanding) {
      if (Atomics.compareExchange(o.claim, 0, UNCLAIMED, CLAIMED_BY_MAIN) !== UNCLAIMED) continue;
      o.settled = true;
      try {
        o.resolve(computeAggregateTask(o.request, (hash) => heldVector(o.vectors, hash)));
      } catch (error) {
        o.reject(error);
      }
      return true;
    }
    return false;
  }

  /** Aggregations that might still be taken back, held with their request and vectors. */
  get outstandingCount(): number {
    return this.outstanding.length;
  }

  // Forgets settled aggregations (and the vectors they held) from the front: they mostly
  // settle in the order they were handed out.
  private dropSettled(): void {
    let n = 0;
    while (n < this.outstanding.length && this.outstanding[n]!.settled) n++;
    if (n > 0) this.outstanding.splice(0, n);
  }

  /** Stops every thread; aggregations still running reject (WorkerPool.stop fails its running tasks). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await Promise.all(this.lanes.map((l) => l.pool.stop()));
  }
}

// The vectors a request was made with hold every hash it names (the base and each global).
function heldVector(vectors: ReadonlyMap<string, Float32Array>, hash: string): Float32Array {
  const v = vectors.get(hash);
  if (!v) throw new Error(`vector ${hash.slice(0, 12)} was not given with the aggregation`);
  return v;
}
