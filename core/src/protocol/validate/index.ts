import { decodeMessage, type Message } from '../messages/index.js';
import { validateAck } from './ack.js';
import { validateAggregate } from './aggregate.js';
import { validateDatasetOffer } from './datasetOffer.js';
import { validateDatasetRequest } from './datasetRequest.js';
import { isVerdict, validateEnvelope } from './envelope.js';
import { validateHeartbeat } from './heartbeat.js';
import { validateInitParams } from './initParams.js';
import { validateState } from './state.js';
import { validateSubmit } from './submit.js';
import type { Checked, ValidationContext, Verdict } from './verdict.js';

export * from './verdict.js';
export { speaksFor } from './envelope.js';

const byType: { [T in Message['type']]: (msg: Extract<Message, { type: T }>, checked: Checked, ctx: ValidationContext) => Verdict | null } = {
  state: validateState,
  ack: validateAck,
  heartbeat: validateHeartbeat,
  'init-params': validateInitParams,
  submit: validateSubmit,
  aggregate: validateAggregate,
  'dataset-offer': validateDatasetOffer,
  'dataset-request': validateDatasetRequest,
};

/**
 * The topic validator: decodes wire bytes and checks them against the envelope rules and
 * the message type's rules. Returns `accept` with the decoded message, `reject` for
 * messages no honest peer sends (the caller penalises the sender), or `ignore` for stale,
 * duplicate or unjudgeable ones. Never throws.
 */
export function validateMessage(raw: Uint8Array | string | object, ctx: ValidationContext): Verdict {
  const decoded = decodeMessage(raw);
  // Bytes that are not a message of this version: REJECT (malformed).
  if (!decoded.ok) return { result: 'reject', reason: `malformed: ${decoded.reason}` };
  const msg = decoded.message;
  const checked = validateEnvelope(msg, ctx);
  if (isVerdict(checked)) return checked;
  const verdict = (byType[msg.type] as (m: Message, c: Checked, x: ValidationContext) => Verdict | null)(msg, checked, ctx);
  return verdict ?? { result: 'accept', reason: 'ok', message: msg };
}
