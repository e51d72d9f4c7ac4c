import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { CanopyError, ErrorCode, AbortedError, UnsupportedError } from '../util/errors.js';
import { createAbortFlag, raiseAbortFlag } from './abortFlag.js';

/**
 * The compiled thread entry `file` next to the module at `moduleUrl`. When that module runs
 * from TypeScript sources (vitest), the copy under the package's dist is used, so run
 * `npm run build` first; a clear error says so when it is missing.
 */
export function threadScript(moduleUrl: string, file: string): URL {
  const here = new URL(`./${file}`, moduleUrl);
  if (existsSync(fileURLToPath(here))) return here;
  const i = moduleUrl.lastIndexOf('/src/');
  const built = i < 0 ? undefined : new URL(`./${file}`, `${moduleUrl.slice(0, i)}/dist/${moduleUrl.slice(i + 5)}`);
  if (built && existsSync(fileURLToPath(built))) return built;
  throw new UnsupportedError(`the thread script ${file} is not built: run \`npm run build\` in the repository root`);
}

/** Messages between a pool and its threads. */
export interface TaskRequest {
  readonly id: number;
  readonly kind: string;
  readonly payload: unknown;
  /** The task's abort flag (see abortFlag.ts), when the caller may abort it. */
  readonly abort?: SharedArrayBuffer;
}
/** A thread's answer: a result, an error, or a progress note for a running task. */
export type TaskResponse =
  | { readonly id: number; readonly ok: true; readonly result: unknown }
  | { readonly id: number; readonly ok: false; readonly error: { name: string; message: string; code?: string } }
  | { readonly id: number; readonly progress: unknown };

/** Options of {@link WorkerPool}. */
export interface WorkerPoolInit {
  /** The worker script (a compiled .js module that calls `serveTasks`). */
  readonly script: URL;
  /** Threads; default: available cores. */
  readonly size?: number;
  /** Data passed to each thread at start (`workerData`). */
  readonly workerData?: unknown;
}

/** Options of one task. */
export interface RunOptions {
  /** Tasks with the same key run on the same thread, so per-thread caches (datasets) stay warm. */
  readonly affinity?: string;
  readonly transfer?: readonly ArrayBuffer[];
  /**
   * Aborts the task: its promise rejects at once, a task still queued on its thread never
   * runs, and a running one stops at its next check (training: the next batch).
   */
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: unknown) => void;
}

/** An error raised inside a worker thread, carried across the boundary. */
export class WorkerTaskError extends CanopyError {
  constructor(
    readonly kind: string,
    readonly remoteName: string,
    message: string,
    code?: string,
  ) {
    super((code as ErrorCode | undefined) ?? ErrorCode.BadInput, message);
  }
}

interface Pending {
  readonly kind: string;
  resolve(v: unknown): void;
  reject(e: unknown): void;
  readonly onProgress?: (p: unknown) => void;
}

interface Slot {
  worker: Worker;
  readonly pending: Map<number, Pending>;
}

/**
 * A fixed pool of worker threads that take typed tasks from a queue (FELES's compute
 * workers, seed 002). Training and aggregation run here so the event loop stays free for
 * gossip and heartbeats; WebAssembly in Node has SIMD but no threads, so this is also how a
 * process uses more than one core. A thread that dies fails its running tasks with a clear
 * error and is replaced.
 */
export class WorkerPool {
  private readonly slots: Slot[] = [];
  private readonly affinity = new Map<string, number>();
  private nextId = 1;
  private rr = 0;
  private stopped = false;

  constructor(private readonly init: WorkerPoolInit) {
    const size = Math.max(1, init.size ?? availableParallelism());
    for (let i = 0; i < size; i++) this.slots.push(this.spawn(i));
  }

  /** Number of threads. */
  get size(): number {
    return this.slots.length;
  }

  /** Runs a task on a thread and resolves with its result. */
  run<R>(kind: string, payload: unknown, opts: RunOptions = {}): Promise<R> {
    if (this.stopped) return Promise.reject(new CanopyError(ErrorCode.Aborted, 'the compute pool is stopped'));
    if (opts.signal?.aborted) return Promise.reject(new AbortedError(kind));
    const index = this.pick(opts.affinity);
    const slot = this.slots[index]!;
    const id = this.nextId++;
    const flag = opts.signal ? createAbortFlag() : undefined;
    return new Promise<R>((resolve, reject) => {
      const onAbort = () => {
        // The thread sees the flag without reading its messages (it may be busy in a kernel);
        // whatever it answers after stopping is dropped.
        raiseAbortFlag(flag!);
        slot.pending.delete(id);
        reject(new AbortedError(kind));
      };
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      slot.pending.set(id, {
        kind,
        resolve: (v) => {
          opts.signal?.removeEventListener('abort', onAbort);
          resolve(v as R);
        },
        reject: (e) => {
          opts.signal?.removeEventListener('abort', onAbort);
          reject(e);
        },
        ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
      });
      slot.worker.postMessage({ id, kind, payload, ...(flag ? { abort: flag.buffer as SharedArrayBuffer } : {}) } satisfies TaskRequest, [...(opts.transfer ?? [])]);
    });
  }

  /** Stops every thread; running tasks fail (their promises reject, none is left pending). */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const slot of this.slots) {
      for (const [id, p] of slot.pending) {
        slot.pending.delete(id);
        p.reject(new CanopyError(ErrorCode.Aborted, `the compute pool was stopped while running ${p.kind}`));
      }
    }
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  private pick(affinity?: string): number {
    if (affinity !== undefined) {
      let i = this.affinity.get(affinity);
      if (i === undefined) {
        i = this.leastLoaded();
        this.affinity.set(affinity, i);
      }
      return i;
    }
    return this.leastLoaded();
  }

  private leastLoaded(): number {
    let best = this.rr++ % this.slots.length;
    for (let i = 0; i < this.slots.length; i++) {
      if (this.slots[i]!.pending.size < this.slots[best]!.pending.size) best = i;
    }
    return best;
  }

  private spawn(index: number): Slot {
    const worker = new Worker(this.init.script, { workerData: this.init.workerData });
    worker.unref();
    const slot: Slot = this.slots[index] ?? { worker, pending: new Map() };
    slot.worker = worker;
    worker.on('message', (msg: TaskResponse) => {
      const p = slot.pending.get(msg.id);
      if (!p) return;
      if ('progress' in msg) {
        p.onProgress?.(msg.progress);
        return;
      }
      slot.pending.delete(msg.id);
      if (msg.ok) p.resolve(msg.result);
      else p.reject(new WorkerTaskError(p.kind, msg.error.name, msg.error.message, msg.error.code));
    });
    const fail = (why: string) => {
      for (const [id, p] of slot.pending) {
        slot.pending.delete(id);
        p.reject(new CanopyError(ErrorCode.BadInput, `compute thread ${index} ${why} while running ${p.kind}`));
      }
      if (!this.stopped) this.slots[index] = this.spawn(index);
    };
    worker.on('error', (err) => fail(`crashed (${err.message})`));
    worker.on('exit', (code) => {
      if (!this.stopped && this.slots[index]?.worker === worker) fail(`exited with code ${code}`);
    });
    return slot;
  }
}
