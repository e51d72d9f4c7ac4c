import { AbortedError } from '../util/errors.js';

// Aborting a task that runs on another thread. The thread is busy in training's synchronous
// wasm and tfjs kernels and reads its messages only when the loop yields (every 50 ms, see
// ml/train.ts), so an abort message could arrive many batches late. Instead the pool and
// the thread share one 32-bit word: the pool raises it, and the training loop, which asks
// its signal `aborted` once per batch, sees it at the next batch without the event loop.

/** A fresh, lowered abort flag to send with a task (a SharedArrayBuffer, so both threads see it). */
export function createAbortFlag(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(4));
}

/** Raises `flag`: the task it was sent with stops at its next check. */
export function raiseAbortFlag(flag: Int32Array): void {
  Atomics.store(flag, 0, 1);
}

const nativeAborted = Object.getOwnPropertyDescriptor(AbortSignal.prototype, 'aborted')!.get!;

/**
 * An AbortSignal that reads as aborted as soon as another thread raised `flag`. Reading
 * `aborted` checks the flag and, the first time it is up, aborts the signal for real (with an
 * {@link AbortedError} naming `what`), so listeners and `reason` behave as usual from then on.
 */
export function flagSignal(flag: Int32Array, what: string): AbortSignal {
  const controller = new AbortController();
  const signal = controller.signal;
  Object.defineProperty(signal, 'aborted', {
    get: (): boolean => {
      if (!nativeAborted.call(signal) && Atomics.load(flag, 0) !== 0) controller.abort(new AbortedError(what));
      return nativeAborted.call(signal) as boolean;
    },
  });
  return signal;
}
