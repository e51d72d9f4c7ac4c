import { z } from 'zod';

// The frames that carry the app contract over a message stream: the WebSocket of
// `canopy node --ui`, and the port between Electron's main process and the utility process
// hosting the node. Pure, so the renderer's browser bridge decodes with the same schemas.

/** Opens a WebSocket session; the token is the one printed when the UI server started. */
export const HelloFrame = z.strictObject({ t: z.literal('hello'), token: z.string().max(256) });

/** A request from the UI. `id` pairs it with its result. */
export const CallFrame = z.strictObject({ t: z.literal('call'), id: z.number().int().min(0), method: z.string().max(64), arg: z.unknown() });
export type CallFrame = z.infer<typeof CallFrame>;

/** Frames the UI sends. */
export const ClientFrame = z.discriminatedUnion('t', [HelloFrame, CallFrame]);
export type ClientFrame = z.infer<typeof ClientFrame>;

/** A failure, as the UI shows it: a stable code and a message written for the owner. */
export const ApiErrorBody = z.strictObject({ code: z.string().max(64), message: z.string().max(4096) });
export type ApiErrorBody = z.infer<typeof ApiErrorBody>;

/** Frames the node sends. (A plain union: two result shapes share the tag `result`.) */
export const ServerFrame = z.union([
  z.strictObject({ t: z.literal('welcome'), version: z.string().max(64) }),
  z.strictObject({ t: z.literal('denied'), reason: z.string().max(1024) }),
  z.strictObject({ t: z.literal('result'), id: z.number().int().min(0), ok: z.literal(true), value: z.unknown() }),
  z.strictObject({ t: z.literal('result'), id: z.number().int().min(0), ok: z.literal(false), error: ApiErrorBody }),
  z.strictObject({ t: z.literal('event'), name: z.string().max(64), payload: z.unknown() }),
]);
export type ServerFrame = z.infer<typeof ServerFrame>;

/** The WebSocket close code for a refused token (4000-4999 are free for applications). */
export const CLOSE_BAD_TOKEN = 4401;
