import type { AggregatorSpec } from '@canopy/core/ml';
import { decodeSyntheticParams, encodeSyntheticParams, syntheticTrainInto, type SyntheticSpec } from '@canopy/core/ml';
import type { TaskHandler } from '@canopy/core/compute/thread';
import { BadInputError } from '@canopy/core/util';
import { streamAggregate } from './streamAggregate.js';

// The synthetic mode's aggregation as a task for a thread (see aggregatePool.ts). The main
// thread reads the blob store and sends what the arithmetic needs; the thread rebuilds each
// client's update from its recipe, streams it through core's aggregator and encodes the
// result: the same code, in the same order, as the inline path, so the same bytes.

/** Where one input's parameters come from, in the order of the inputs blob. */
export type ThreadInput =
  /** A synthetic client update: `syntheticTrainInto(vectors[global], member)`. */
  | { readonly kind: 'update'; readonly client: string; readonly samples: number; readonly member: string; readonly global: string }
  /** Encoded parameters (a sub-cluster's aggregate). */
  | { readonly kind: 'bytes'; readonly client: string; readonly samples: number; readonly bytes: Uint8Array }
  /**
   * An input the main thread could not resolve (not stored, or not parameters): the
   * aggregation fails with `message` where the inline path would, after the inputs before it.
   */
  | { readonly kind: 'unusable'; readonly client: string; readonly samples: number; readonly message: string };

/** A vector sent to the thread once and kept there by hash. */
export interface SentVector {
  readonly hash: string;
  readonly values: Float32Array;
}

/** Payload of {@link AGGREGATE_TASK}. */
export interface AggregateTask {
  readonly aggregator: AggregatorSpec;
  readonly spec: SyntheticSpec;
  /** Hash of the base vector, held by the thread once `vectors` are stored. */
  readonly base: string;
  readonly inputs: readonly ThreadInput[];
  /** Vectors the thread does not hold yet; stored before the inputs are read. */
  readonly vectors: readonly SentVector[];
  /** Vectors the thread may drop, first: the caller alone decides what the thread holds. */
  readonly forget: readonly string[];
  /**
   * Who computes the task, one Int32 shared with the main thread: {@link UNCLAIMED}, then
   * {@link CLAIMED_BY_THREAD} or {@link CLAIMED_BY_MAIN}, whichever swaps it first.
   */
  readonly claim: SharedArrayBuffer;
}

/** A task no one has started. */
export const UNCLAIMED = 0;
/** The thread computes the task. */
export const CLAIMED_BY_THREAD = 1;
/** The main thread took the task back (AggregatePool.helpOne): the thread skips it. */
export const CLAIMED_BY_MAIN = 2;

/** Result of {@link AGGREGATE_TASK}: the aggregate, encoded with `encodeSyntheticParams`; null when the main thread took the task back. */
export interface AggregateTaskResult {
  readonly bytes: Uint8Array | null;
}

/** The task kind a thread serves. */
export const AGGREGATE_TASK = 'aggregateSynthetic';

/**
 * The arithmetic of one task: each input rebuilt or decoded, streamed through core's
 * aggregator onto the base, encoded. `vector` gives the vectors the task names, by hash. The
 * threads run it, and the main thread when it takes a task back, so either gives the same
 * bytes; each branch matches SyntheticTrainer.fill's, message for message.
 */
export function computeAggregateTask(task: Pick<AggregateTask, 'aggregator' | 'spec' | 'base' | 'inputs'>, vector: (hash: string) => Float32Array): Uint8Array {
  // Core's JS arithmetic: the same bits as its WebAssembly (arithmetic.ts), in Float32Arrays
  // that this heap's collections free. A WebAssembly memory per aggregation is freed only
  // by a full collection, which a thread that allocates little else rarely runs: scale-10k
  // grew by ~75 MB per 100 aggregations that way. JS costs ~10 % more per task here.
  const ctx = { global: vector(task.base), backend: 'js' } as const;
  const result = streamAggregate(task.aggregator, ctx, task.inputs, (input, slot) => {
    if (input.kind === 'update') syntheticTrainInto(slot, vector(input.global), input.member, task.spec);
    else if (input.kind === 'bytes') slot.set(decodeSyntheticParams(input.bytes));
    else throw new Error(input.message);
  });
  return encodeSyntheticParams(result.params);
}

/** The handlers of one aggregation thread, with its own store of vectors by hash. */
export function aggregateTaskHandlers(): Record<typeof AGGREGATE_TASK, TaskHandler> {
  const vectors = new Map<string, Float32Array>();
  const vector = (hash: string): Float32Array => {
    const v = vectors.get(hash);
    if (!v) throw new BadInputError(`vector ${hash.slice(0, 12)} is not held by the aggregation thread (it was never sent, or the thread was restarted)`);
    return v;
  };
  return {
    [AGGREGATE_TASK]: (task: AggregateTask) => {
      // Kept even for a task taken back: the pool counts these vectors as held here.
      for (const hash of task.forget) vectors.delete(hash);
      for (const v of task.vectors) vectors.set(v.hash, v.values);
      if (Atomics.compareExchange(new Int32Array(task.claim), 0, UNCLAIMED, CLAIMED_BY_THREAD) !== UNCLAIMED) {
        return { result: { bytes: null } satisfies AggregateTaskResult };
      }
      const bytes = computeAggregateTask(task, vector);
      return { result: { bytes } satisfies AggregateTaskResult, transfer: [bytes.buffer as ArrayBuffer] };
    },
  };
}
