import { trainTaskHandlers } from '@canopy/core/compute/port';
import { describeIssues, PortCancel, PortTaskRequest, type PortReady, type PortTaskResponse } from '@canopy/core/compute/port';
import type { BackendInfo } from '@canopy/core/ml';

/** The window's end of the node's port (a DOM MessagePort, or a stand-in in tests). */
export interface WindowPort {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  addEventListener(type: 'message', listener: (e: MessageEvent) => void): void;
  start?(): void;
}

/**
 * Serves the node's training tasks on `port`, one at a time in arrival order, with core's
 * own task handlers (trainTaskHandlers: the code the node's compute threads run) on the
 * backend `ready` started. Every request is decoded first; a malformed one is answered with
 * an error naming what was wrong, and the window carries on. A cancel from the node aborts
 * its task: a queued one never runs, a running one stops at its next batch (training yields
 * to this window's event loop every 50 ms, which is when it reads the cancel).
 */
export function serveGpuTasks(port: WindowPort, ready: PortReady, info: BackendInfo): void {
  const handlers = trainTaskHandlers({ ready: () => Promise.resolve(info) });
  const post = (msg: PortTaskResponse, transfer: ArrayBuffer[] = []) => port.postMessage(msg, transfer);
  let chain = Promise.resolve();
  // Tasks received and not yet answered, by id, so a cancel can reach them.
  const live = new Map<number, AbortController>();
  port.addEventListener('message', (e: MessageEvent) => {
    const data: unknown = e.data;
    const cancel = PortCancel.safeParse(data);
    if (cancel.success) {
      live.get(cancel.data.id)?.abort();
      return;
    }
    const controller = new AbortController();
    const req = PortTaskRequest.safeParse(data);
    if (req.success) live.set(req.data.id, controller);
    chain = chain.then(async () => {
      if (!req.success) {
        const id = typeof data === 'object' && data !== null && Number.isSafeInteger((data as { id?: unknown }).id) && (data as { id: number }).id > 0 ? (data as { id: number }).id : 0;
        post({ id, ok: false, error: { name: 'BadInputError', code: 'BAD_INPUT', message: `the GPU window refused a malformed task (${describeIssues(req.error)})` } });
        return;
      }
      const { id, kind, payload } = req.data;
      try {
        // Cancelled while queued: the node no longer waits for it.
        if (controller.signal.aborted) return;
        const { result, transfer } = await handlers[kind](payload as never, (progress) => post({ id, progress: progress as never }), controller.signal);
        post({ id, ok: true, result }, transfer);
      } catch (err) {
        const x = err as Error & { code?: string };
        post({ id, ok: false, error: { name: x.name ?? 'Error', message: (x.message ?? String(err)).slice(0, 4000), ...(typeof x.code === 'string' ? { code: x.code } : {}) } });
      } finally {
        live.delete(id);
      }
    });
  });
  port.start?.();
  port.postMessage(ready);
}
