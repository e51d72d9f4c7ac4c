import type { MlTasks } from './mlTaskTypes.js';
import type { RunOptions } from './workerPool.js';

/**
 * Where ML tasks run: compute threads in this process ({@link ComputePool}, the default) or
 * another implementation, such as the simulator's Redis queue of worker processes. Callers
 * depend on this interface only, so where a task ran never changes what it computes.
 */
export interface ComputeTarget {
  /** Tasks that can run at once (threads, or live worker slots). */
  readonly size: number;
  /** Runs an ML task; `affinity` keeps a member's tasks where its data is loaded when the target can. */
  run<K extends keyof MlTasks>(kind: K, payload: MlTasks[K]['payload'], opts?: RunOptions): Promise<MlTasks[K]['result']>;
  /** Stops the target; tasks still running reject. */
  stop(): Promise<void>;
}
