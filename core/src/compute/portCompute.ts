import { AbortedError, CanopyError, ErrorCode } from '../util/errors.js';
import type { ComputeBackend, ComputeTaskOptions, DataOwner, DataSource, TrainOutcome, TrainProgress } from './computeBackend.js';
import { describeIssues, PortReady, PortTaskResult, PortTaskResponse, type PortCancel, type PortTaskKind, type PortTaskRequest } from './portMessages.js';

/** The two ends of a MessagePort as the node sees them (Node's, Electron's MessagePortMain, a test's). */
export interface TaskPort {
  post(message: unknown): void;
  onMessage(listener: (data: unknown) => void): void;
  /** Called once when the other side is gone (its window closed or crashed). */
  onClose(listener: () => void): void;
  close(): void;
}

/** A task the GPU window could not run, or answered wrongly, or died during. */
export class PortTaskError extends CanopyError {
  constructor(
    readonly kind: string,
    message: string,
    code: ErrorCode = ErrorCode.BadInput,
  ) {
    super(code, message);
  }
}

/** Options of {@link portCompute}. */
export interface PortComputeInit {
  readonly port: TaskPort;
  /**
   * Runs everything the window does not: initial parameters, aggregation (deterministic wasm
   * kernels, so every worker gets the same bytes), distributors' chunks, and all training
   * once the window is gone.
   */
  readonly fallback: ComputeBackend;
  /** Told once when the window is lost, with why. */
  readonly onLost?: (why: string) => void;
  /** Told about messages that were dropped as malformed. */
  readonly onMalformed?: (why: string) => void;
}

/** A compute backend that trains in another context over a port, and says what that context runs. */
export interface PortCompute extends ComputeBackend {
  /** The window's report of its backend; rejects if the window is lost before it reports. */
  readonly ready: Promise<PortReady>;
  /** Whether the window is gone (training then runs on the fallback). */
  readonly lost: boolean;
}

interface Pending {
  readonly kind: PortTaskKind;
  resolve(v: unknown): void;
  reject(e: unknown): void;
  readonly onProgress?: (p: TrainProgress) => void;
}

/**
 * Sends members' training and evaluation to a compute target behind a MessagePort (the
 * desktop app's GPU window, see renderer/src/gpu), and everything else to `fallback`. Every
 * answer is decoded; a malformed one fails its task with a clear error. If the window dies,
 * its running tasks fail, and later tasks run on the fallback, which loads each member's
 * data again from the source it was given.
 */
export function portCompute({ port, fallback, onLost, onMalformed }: PortComputeInit): PortCompute {
  const pending = new Map<number, Pending>();
  // Each key's source, so the fallback can load it if the window goes.
  const sources = new Map<string, { source: DataSource; owner: DataOwner }>();
  const onFallback = new Set<string>();
  let nextId = 1;
  let lost: string | undefined;
  let settleReady: { resolve(r: PortReady): void; reject(e: unknown): void } | undefined;
  const ready = new Promise<PortReady>((resolve, reject) => (settleReady = { resolve, reject }));
  // Nobody may wait on it (the node host races it with a timeout); don't report it as unhandled.
  ready.catch(() => undefined);

  const loseWindow = (why: string) => {
    if (lost !== undefined) return;
    lost = why;
    settleReady?.reject(new PortTaskError('ready', `the GPU window ${why} before it reported its backend`, ErrorCode.Unsupported));
    for (const [id, p] of pending) {
      pending.delete(id);
      p.reject(new PortTaskError(p.kind, `the GPU window ${why} while running ${p.kind}; later tasks run on ${fallback.kind === 'ml' ? 'the CPU' : 'the fallback'}`, ErrorCode.Aborted));
    }
    onLost?.(why);
  };

  port.onClose(() => loseWindow('closed'));
  port.onMessage((data) => {
    const ready = PortReady.safeParse(data);
    if (ready.success) {
      settleReady?.resolve(ready.data);
      return;
    }
    const msg = PortTaskResponse.safeParse(data);
    const id = typeof data === 'object' && data !== null && 'id' in data ? (data as { id: unknown }).id : undefined;
    const p = typeof id === 'number' ? pending.get(id) : undefined;
    if (!msg.success) {
      // A malformed answer to a running task fails that task; anything else is dropped.
      const why = `a malformed message from the GPU window (${describeIssues(msg.error)})`;
      if (p && typeof id === 'number') {
        pending.delete(id);
        p.reject(new PortTaskError(p.kind, `${p.kind}: ${why}`));
      } else onMalformed?.(why);
      return;
    }
    if (!p) return; // a late answer to a task that already failed
    const m = msg.data;
    if ('progress' in m) {
      p.onProgress?.(m.progress);
      return;
    }
    pending.delete(m.id);
    if (!m.ok) {
      p.reject(new PortTaskError(p.kind, `the GPU window failed ${p.kind}: ${m.error.message}`, knownCode(m.error.code)));
      return;
    }
    const result = PortTaskResult[p.kind].safeParse(m.result);
    if (result.success) p.resolve(result.data);
    else p.reject(new PortTaskError(p.kind, `${p.kind}: a malformed result from the GPU window (${describeIssues(result.error)})`));
  });

  function run<K extends PortTaskKind>(kind: K, payload: Extract<PortTaskRequest, { kind: K }>['payload'], opts: ComputeTaskOptions & { onProgress?: (p: TrainProgress) => void } = {}): Promise<unknown> {
    if (lost !== undefined) return Promise.reject(new PortTaskError(kind, `the GPU window ${lost}`, ErrorCode.Aborted));
    const { signal, onProgress } = opts;
    if (signal?.aborted) return Promise.reject(new AbortedError(kind));
    const id = nextId++;
    return new Promise((resolve, reject) => {
      // Aborted: the task fails at once, and the window is told to skip or stop it.
      const onAbort = () => {
        if (!pending.delete(id)) return;
        reject(new AbortedError(kind));
        try {
          port.post({ type: 'cancel', id } satisfies PortCancel);
        } catch {
          // The window is gone: nothing runs there any more.
        }
      };
      const settle = <T>(f: (v: T) => void) => (v: T) => {
        signal?.removeEventListener('abort', onAbort);
        f(v);
      };
      pending.set(id, { kind, resolve: settle(resolve), reject: settle(reject), ...(onProgress ? { onProgress } : {}) });
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        port.post({ id, kind, payload });
      } catch (err) {
        pending.delete(id);
        signal?.removeEventListener('abort', onAbort);
        reject(new PortTaskError(kind, `could not send ${kind} to the GPU window: ${err instanceof Error ? err.message : String(err)}`, ErrorCode.Aborted));
      }
    });
  }

  // The window reads no files: a local source is split here, exactly as a compute thread would.
  const chunkOf = async (source: DataSource, opts: ComputeTaskOptions | undefined): Promise<Uint8Array> => {
    if (source.kind === 'chunk') return source.bytes;
    const chunks = await fallback.prepareChunks({ dataset: source.dataset, partition: source.partition, seed: source.seed, shards: source.shard.of }, opts);
    const mine = chunks[source.shard.index];
    if (!mine) throw new PortTaskError('loadData', `shard ${source.shard.index} of ${source.shard.of} does not exist`);
    return mine.bytes;
  };

  // Once the window is gone, a member's data is loaded into the fallback on first use.
  const onFallbackFor = async (key: string, opts: ComputeTaskOptions | undefined) => {
    if (onFallback.has(key)) return;
    const s = sources.get(key);
    if (!s) throw new PortTaskError('train', `no data loaded under "${key}"; load it first`);
    await fallback.loadData({ key, source: s.source, owner: s.owner }, opts);
    onFallback.add(key);
  };

  return {
    kind: 'ml',
    ready,
    get lost() {
      return lost !== undefined;
    },
    loadData: async (task, opts) => {
      const { key, source, owner } = task;
      sources.set(key, { source, owner });
      onFallback.delete(key);
      if (lost !== undefined) {
        const r = await fallback.loadData(task, opts);
        onFallback.add(key);
        return r;
      }
      const r = (await run('loadData', { key, source: { kind: 'chunk', bytes: await chunkOf(source, opts) } }, opts)) as { train: number; test: number };
      return { train: r.train, test: r.test };
    },
    initParams: (task, opts) => fallback.initParams(task, opts),
    train: async (task, opts) => {
      if (lost === undefined) {
        const { key, model, train, global, seed } = task;
        const r = (await run('train', { key, model, train, global, seed }, opts)) as TrainOutcome & { samplesPerSec: number; backend: string };
        return { params: r.params, samples: r.samples, loss: r.loss, accuracy: r.accuracy, samplesPerSec: r.samplesPerSec, backend: r.backend };
      }
      await onFallbackFor(task.key, opts);
      return fallback.train(task, opts);
    },
    evaluate: async (task, opts) => {
      if (lost === undefined) return (await run('evaluate', { key: task.key, model: task.model, params: task.params }, opts)) as { loss: number; accuracy: number; samples: number };
      await onFallbackFor(task.key, opts);
      return fallback.evaluate(task, opts);
    },
    aggregate: (task, opts) => fallback.aggregate(task, opts),
    prepareChunks: (task, opts) => fallback.prepareChunks(task, opts),
    paramsLimit: (model) => fallback.paramsLimit(model),
    stop: async () => {
      loseWindow('was stopped');
      port.close();
      await fallback.stop();
    },
  };
}

function knownCode(code: string | undefined): ErrorCode {
  return (Object.values(ErrorCode) as string[]).includes(code ?? '') ? (code as ErrorCode) : ErrorCode.BadInput;
}
