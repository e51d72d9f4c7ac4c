import { z } from 'zod';
import { AckMessage } from './ack.js';
import { AggregateMessage } from './aggregate.js';
import { DatasetOfferMessage } from './datasetOffer.js';
import { DatasetRequestMessage } from './datasetRequest.js';
import { HeartbeatMessage } from './heartbeat.js';
import { InitParamsMessage } from './initParams.js';
import { StateMessage } from './state.js';
import { SubmitMessage } from './submit.js';

export * from './common.js';
export * from './state.js';
export * from './ack.js';
export * from './heartbeat.js';
export * from './initParams.js';
export * from './submit.js';
export * from './aggregate.js';
export * from './datasetOffer.js';
export * from './datasetRequest.js';

/** Every control-plane message, discriminated by `type`. */
export const Message = z.discriminatedUnion('type', [
  StateMessage,
  AckMessage,
  HeartbeatMessage,
  InitParamsMessage,
  SubmitMessage,
  AggregateMessage,
  DatasetOfferMessage,
  DatasetRequestMessage,
]);
export type Message = z.infer<typeof Message>;

/** The message of one type. */
export type MessageOf<T extends Message['type']> = Extract<Message, { type: T }>;

/** Largest encoded message we accept; well under gossipsub's 4 MiB cap. */
export const MAX_MESSAGE_BYTES = 256 * 1024;

/** Encodes a message as UTF-8 JSON, the wire format. */
export function encodeMessage(message: Message): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(message));
}

/** Result of decoding: the message, or why it is not one. */
export type DecodeResult = { ok: true; message: Message } | { ok: false; reason: string };

/** Decodes and schema-checks wire bytes (or an already parsed object). Never throws. */
export function decodeMessage(raw: Uint8Array | string | object): DecodeResult {
  let value: unknown = raw;
  if (raw instanceof Uint8Array || typeof raw === 'string') {
    const size = typeof raw === 'string' ? raw.length : raw.byteLength;
    if (size > MAX_MESSAGE_BYTES) return { ok: false, reason: `message of ${size} bytes exceeds ${MAX_MESSAGE_BYTES}` };
    try {
      value = JSON.parse(typeof raw === 'string' ? raw : new TextDecoder('utf-8', { fatal: true }).decode(raw));
    } catch {
      return { ok: false, reason: 'not UTF-8 JSON' };
    }
  }
  const parsed = Message.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return { ok: false, reason: `${issue.path.join('.') || '(message)'}: ${issue.message}` };
  }
  return { ok: true, message: parsed.data };
}
