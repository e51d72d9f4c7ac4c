import type { BackendPreference } from '../ml/index.js';
import { WorkerPool, threadScript, type RunOptions } from './workerPool.js';
import type { MlTasks } from './mlTaskTypes.js';
import type { ComputeTarget } from './computeTarget.js';

/** A pool of compute threads running ML tasks, typed by {@link MlTasks}. */
export class ComputePool implements ComputeTarget {
  private constructor(private readonly pool: WorkerPool) {}

  /**
   * Starts `size` compute threads. The thread entry is the compiled `computeWorker.js`; when
   * this module runs from TypeScript sources (tests), the compiled copy under core/dist is
   * used, so run `npm run build` first.
   */
  static start({ size = 1, backend = 'auto' }: { size?: number; backend?: BackendPreference } = {}): ComputePool {
    return new ComputePool(new WorkerPool({ script: threadScript(import.meta.url, 'computeWorker.js'), size, workerData: { backend } }));
  }

  get size(): number {
    return this.pool.size;
  }

  /** Runs an ML task on a thread. */
  run<K extends keyof MlTasks>(kind: K, payload: MlTasks[K]['payload'], opts?: RunOptions): Promise<MlTasks[K]['result']> {
    return this.pool.run(kind, payload, opts);
  }

  stop(): Promise<void> {
    return this.pool.stop();
  }
}
