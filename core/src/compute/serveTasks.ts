import { parentPort } from 'node:worker_threads';
import type { TaskRequest, TaskResponse } from './workerPool.js';

/** A task handler inside a worker thread; `progress` posts a note to the caller. */
export type TaskHandler = (payload: never, progress: (p: unknown) => void) => Promise<{ result: unknown; transfer?: ArrayBuffer[] }> | { result: unknown; transfer?: ArrayBuffer[] };

/**
 * Runs inside a worker thread: answers the pool's task requests with the given handlers,
 * one task at a time, turning thrown errors into error responses.
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
      try {
        const { result, transfer } = await handler(req.payload as never, (progress) => post({ id: req.id, progress }));
        post({ id: req.id, ok: true, result }, transfer);
      } catch (err) {
        const e = err as Error & { code?: string };
        post({ id: req.id, ok: false, error: { name: e.name ?? 'Error', message: e.message ?? String(err), ...(e.code ? { code: e.code } : {}) } });
      }
    });
  });
}
