import { apiEvents, apiMethods, type EventName, type MethodName } from '@canopy/core/app/contract';
import { subscriberName } from '@canopy/core/app/contract';
import { ServerFrame, type ApiErrorBody } from '@canopy/core/app/contract';
import type { Api } from './types';

/** An error the node returned for a request; `code` is one of Canopy's stable error codes. */
export class ApiCallError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiCallError';
  }
}

/** The node refused the access token. */
export class TokenRefusedError extends Error {
  readonly code = 'TOKEN_REFUSED';
  constructor(reason: string) {
    super(reason);
    this.name = 'TokenRefusedError';
  }
}

/** The bridge as the app uses it: the API plus the connection's lifetime. */
export interface Bridge {
  readonly api: Api;
  /** Called once when the connection drops. */
  onClose(listener: (reason: string) => void): void;
  close(): void;
}

/**
 * Connects to `canopy node --ui` over its WebSocket and returns the same API Electron's
 * preload exposes. Resolves once the node has accepted the token; rejects with
 * {@link TokenRefusedError} if it refuses it.
 */
export function connectBridge(url: string, token: string, WebSocketImpl: typeof WebSocket = WebSocket): Promise<Bridge> {
  const ws = new WebSocketImpl(url);
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const listeners = new Map<string, Set<(payload: unknown) => void>>();
  const closeListeners: ((reason: string) => void)[] = [];
  let nextId = 1;
  let closed = false;

  const call = (method: MethodName, arg: unknown): Promise<unknown> =>
    new Promise((resolve, reject) => {
      if (closed || ws.readyState !== ws.OPEN) {
        reject(new ApiCallError('NETWORK', 'the connection to the node is closed'));
        return;
      }
      const id = nextId++;
      pending.set(id, { resolve, reject });
      ws.send(JSON.stringify({ t: 'call', id, method, arg }));
    });

  const api: Record<string, unknown> = {};
  for (const method of Object.keys(apiMethods) as MethodName[]) api[method] = (arg: unknown) => call(method, arg ?? {});
  for (const event of Object.keys(apiEvents) as EventName[]) {
    api[subscriberName(event)] = (listener: (payload: unknown) => void) => {
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(listener);
      return () => set.delete(listener);
    };
  }

  return new Promise<Bridge>((resolve, reject) => {
    let welcomed = false;
    ws.addEventListener('open', () => ws.send(JSON.stringify({ t: 'hello', token })));
    ws.addEventListener('message', (ev) => {
      const parsed = ServerFrame.safeParse(JSON.parse(String(ev.data)));
      if (!parsed.success) return;
      const frame = parsed.data;
      if (frame.t === 'welcome') {
        welcomed = true;
        resolve({ api: api as Api, onClose: (l) => closeListeners.push(l), close: () => ws.close(1000, 'closed by the app') });
      } else if (frame.t === 'denied') {
        reject(new TokenRefusedError(frame.reason));
      } else if (frame.t === 'result') {
        const p = pending.get(frame.id);
        pending.delete(frame.id);
        if (frame.ok) p?.resolve(frame.value);
        else p?.reject(toError(frame.error));
      } else {
        for (const l of listeners.get(frame.name) ?? []) l(frame.payload);
      }
    });
    ws.addEventListener('close', (ev) => {
      closed = true;
      const reason = ev.reason || `connection closed (${ev.code})`;
      for (const p of pending.values()) p.reject(new ApiCallError('NETWORK', reason));
      pending.clear();
      if (!welcomed) reject(ev.code === 4401 ? new TokenRefusedError(reason) : new ApiCallError('NETWORK', `cannot reach the node: ${reason}`));
      else for (const l of closeListeners) l(reason);
    });
  });
}

function toError(body: ApiErrorBody): ApiCallError {
  return new ApiCallError(body.code, body.message);
}
