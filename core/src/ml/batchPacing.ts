import { throwIfAborted } from '../util/errors.js';

// Yield to the event loop this often, so that timers, sockets and abort messages are served
// during a long local round (wasm kernels are synchronous).
const YIELD_MS = 50;

// setImmediate does not exist in browsers (the renderer trains too); setTimeout there.
const yieldToEventLoop = (): Promise<void> =>
  new Promise((resolve) => (typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0)));

/** The pacing of one local training's batches, the same for both engines (tfjs and the fast path). */
export interface BatchPacing {
  /** Batches per epoch. */
  readonly batches: number;
  /** Throws AbortedError once the training's signal fired: asked before every batch, so an abort takes effect within one. */
  checkAborted(): void;
  /** Whether batch `b` (0-based) of an epoch reports progress: every `progressEvery`-th and the last. */
  reports(b: number): boolean;
  /** After a batch: yields to the event loop when it has not had a turn for 50 ms. */
  breathe(): Promise<void> | undefined;
}

/**
 * The pacing of a training of `count` samples in batches of `batchSize`; progress about 20
 * times per epoch unless `progressEvery` says otherwise.
 */
export function batchPacing(count: number, batchSize: number, opts: { readonly progressEvery?: number | undefined; readonly signal?: AbortSignal | undefined }): BatchPacing {
  const batches = Math.ceil(count / batchSize);
  const progressEvery = opts.progressEvery ?? Math.max(1, Math.round(batches / 20));
  let lastYield = performance.now();
  return {
    batches,
    checkAborted: () => throwIfAborted(opts.signal, 'local training'),
    reports: (b) => (b + 1) % progressEvery === 0 || b === batches - 1,
    breathe: () => {
      if (performance.now() - lastYield <= YIELD_MS) return undefined;
      return yieldToEventLoop().then(() => {
        lastYield = performance.now();
      });
    },
  };
}
