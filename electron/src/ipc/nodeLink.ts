import { ServerFrame, type CallFrame } from '@canopy/core/app/contract';
import type { EventName, MethodName } from '@canopy/core/app/contract';

/** The message port of Electron's utility process, as main sees it (a structural subset). */
export interface UtilityPort {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  on(event: 'exit', listener: (code: number) => void): unknown;
}

/** An error the node returned; the renderer receives its code and message. */
export class NodeCallError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'NodeCallError';
  }
}

/**
 * Main's end of the link to the utility process that hosts the node: it sends calls and
 * pairs results with them, and hands events on. It interprets nothing: the node answers.
 */
export class NodeLink {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private exited: string | undefined;

  constructor(
    private readonly port: UtilityPort,
    private readonly onEvent: (name: EventName, payload: unknown) => void,
  ) {
    port.on('message', (raw: unknown) => this.receive(raw));
    port.on('exit', (code: number) => {
      this.exited = `the node process exited (code ${code})`;
      for (const p of this.pending.values()) p.reject(new NodeCallError('NETWORK', this.exited));
      this.pending.clear();
    });
  }

  /** Sends one already-validated call and resolves with the node's result. */
  call(method: MethodName, arg: unknown): Promise<unknown> {
    if (this.exited) return Promise.reject(new NodeCallError('NETWORK', this.exited));
    const id = this.nextId++;
    const frame: CallFrame = { t: 'call', id, method, arg };
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.port.postMessage(frame);
    });
  }

  private receive(raw: unknown): void {
    // Electron wraps utility messages as { data }; accept the bare frame too.
    const parsed = ServerFrame.safeParse(raw !== null && typeof raw === 'object' && 'data' in raw ? (raw as { data: unknown }).data : raw);
    if (!parsed.success) return;
    const f = parsed.data;
    if (f.t === 'result') {
      const p = this.pending.get(f.id);
      this.pending.delete(f.id);
      if (f.ok) p?.resolve(f.value);
      else p?.reject(new NodeCallError(f.error.code, f.error.message));
    } else if (f.t === 'event') {
      this.onEvent(f.name as EventName, f.payload);
    }
  }
}
