import { parentPort } from 'node:worker_threads';
import { AbortedError } from '../util/errors.js';
import { flagSignal } from './abortFlag.js';
import type { TaskRequest, TaskResponse } from './workerPool.js';

/**
 * A task handler inside a worker thread (or the GPU window): `progress` posts a note to the
 * caller; `signal` aborts when the caller gave up on the task (its node stopped or left the
 * job), and long handlers check it at least once per batch.
 */
export type TaskHandler = (
  payload: never,
  progress: (p: unknown) => void,
  signal: AbortSignal,
) => Promise<{ result: unknown; transfer?: ArrayBuffer[] }> | { result: unknown; transfer?: ArrayBuffer[] };

// A request sent without an abort flag cannot be aborted.
const never = new AbortController().signal;

/**
 * Runs inside a worker thread: answers the pool's task requests with the given handlers,
 * one task at a time, turning thrown errors into error responses. A task whose abort flag is
 * up when its turn comes is answered as aborted without running.
 */
export function serveTasks(handlers: Record<string, TaskHandler>): void {
  const port = parentPort;
  if (!port) throw new Error('serveTasks must run inside a worker thread');
  let chain = Promise.resolve();
  port.on('message', (req: TaskRequest) => {
    chain = chain.then(async () => {
      const handler = handlers[req.kind];
      const post = (msg: TaskResponse, transfer: ArrayBuffer[] = []) => port.postMessage(msg, transfer);
      if (!handler) {
        post({ id: req.id, ok: false, error: { name: 'UnknownTask', message: `no handler for task "${req.kind}"` } });
        return;
      }
      const signal = req.abort ? flagSignal(new Int32Array(req.abort), req.kind) : never;
      try {
        if (signal.aborted) throw new AbortedError(req.kind);
        const { result, transfer } = await handler(req.payload as never, (progress) => post({ id: req.id, progress }), signal);
        post({ id: req.id, ok: true, result }, transfer);
      } catch (err) {
        const e = err as Error & { code?: string };
        post({ id: req.id, ok: false, error: { name: e.name ?? 'Error', message: e.message ?? String(err), ...(e.code ? { code: e.code } : {}) } });
      }
    });
  });
}
