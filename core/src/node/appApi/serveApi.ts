import { CanopyError } from '../../util/errors.js';
import { formatZodIssues } from '../../protocol/manifest.js';
import { apiEvents, apiMethods, isMethodName, type ApiHandlers, type EventName, type EventPayload, type MethodName } from './contract.js';
import type { ApiErrorBody, CallFrame, ServerFrame } from './rpcMessages.js';

/** Something events can be subscribed on, such as an {@link AppApi}. */
export interface EventSource {
  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void;
}

/** One connected UI session: feed it calls; it sends results and events through `send`. */
export interface ApiSession {
  /** Handles one decoded call frame; never throws: failures become error results. */
  call(frame: CallFrame): Promise<void>;
  /** Stops forwarding events. */
  close(): void;
}

/**
 * Serves the app contract to one UI session over any message transport. Every call's method
 * name and argument are decoded with the contract's schemas before a handler sees them, so a
 * compromised or buggy UI cannot hand the node a malformed value.
 */
export function serveApi(api: ApiHandlers & EventSource, send: (frame: ServerFrame) => void): ApiSession {
  const offs = (Object.keys(apiEvents) as EventName[]).map((name) => api.on(name, (payload) => send({ t: 'event', name, payload })));
  return {
    async call(frame) {
      send(await dispatch(api, frame.id, frame.method, frame.arg));
    },
    close() {
      for (const off of offs.splice(0)) off();
    },
  };
}

/** Decodes and runs one call; the frame to send back. */
export async function dispatch(api: ApiHandlers, id: number, method: string, arg: unknown): Promise<ServerFrame> {
  if (!isMethodName(method)) return { t: 'result', id, ok: false, error: { code: 'BAD_INPUT', message: `unknown method ${JSON.stringify(method.slice(0, 64))}` } };
  const decoded = decodeArg(method, arg);
  if (!decoded.ok) return { t: 'result', id, ok: false, error: { code: 'BAD_INPUT', message: decoded.message } };
  try {
    const handler = api[method] as (a: unknown) => Promise<unknown>;
    return { t: 'result', id, ok: true, value: await handler.call(api, decoded.value) };
  } catch (err) {
    return { t: 'result', id, ok: false, error: errorBody(err) };
  }
}

/** Decodes a call's argument with the contract's schema; a missing argument counts as `{}`. */
export function decodeArg(method: MethodName, arg: unknown): { ok: true; value: unknown } | { ok: false; message: string } {
  const parsed = apiMethods[method].arg.safeParse(arg ?? {});
  return parsed.success ? { ok: true, value: parsed.data } : { ok: false, message: `${method}: ${formatZodIssues(parsed.error.issues, arg).join('; ')}` };
}

/** The error as the owner should read it; unexpected errors keep their message, never a stack. */
export function errorBody(err: unknown): ApiErrorBody {
  if (err instanceof CanopyError) return { code: err.code, message: err.message };
  return { code: 'INTERNAL', message: err instanceof Error ? err.message : String(err) };
}
