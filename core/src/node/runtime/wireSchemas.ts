import { z } from 'zod';
import { JobSheetSchema } from '../../protocol/jobSheet.js';
import { Manifest } from '../../protocol/manifest.js';
import {
  AckMessage,
  AggregateMessage,
  DatasetOfferMessage,
  DatasetRequestMessage,
  HeartbeatMessage,
  InitParamsMessage,
  Message,
  StateMessage,
  SubmitMessage,
} from '../../protocol/messages/index.js';
import { BlobRequest, BlobResponse } from '../../net/blobExchange.js';
import { DatasetIndex } from './dataEffects.js';
import { Announce, Submission } from './submission.js';
import { SubmitReply } from './submitProtocol.js';
import { InputsBlob } from './taskEffects.js';

// Every JSON value a peer sends or stores for others, as the zod schema the code validates it
// with. docs/protocol/schemas/ holds these as JSON Schema, generated from here
// (scripts/protocol-docs.mjs); a test fails when the two differ, so the published schemas
// are the ones the code enforces.

interface WireSchema {
  readonly schema: z.ZodType;
  /** `input`: the value as written, before defaults (a manifest); `output`: as sent. */
  readonly io: 'input' | 'output';
  readonly title: string;
}

/** File stem (`docs/protocol/schemas/<stem>.schema.json`) → schema. */
export const WIRE_SCHEMAS: Readonly<Record<string, WireSchema>> = {
  message: { schema: Message, io: 'output', title: 'Any control-plane message (gossip, §4)' },
  'message-state': { schema: StateMessage, io: 'output', title: 'state: host → job topic (§4.2)' },
  'message-ack': { schema: AckMessage, io: 'output', title: 'ack (§4.3)' },
  'message-heartbeat': { schema: HeartbeatMessage, io: 'output', title: 'heartbeat (§4.4)' },
  'message-init-params': { schema: InitParamsMessage, io: 'output', title: 'init-params (§4.5)' },
  'message-submit': { schema: SubmitMessage, io: 'output', title: 'submit (§4.6)' },
  'message-aggregate': { schema: AggregateMessage, io: 'output', title: 'aggregate (§4.7)' },
  'message-dataset-offer': { schema: DatasetOfferMessage, io: 'output', title: 'dataset-offer (§4.8)' },
  'message-dataset-request': { schema: DatasetRequestMessage, io: 'output', title: 'dataset-request (§4.9)' },
  manifest: { schema: Manifest, io: 'input', title: 'Job manifest as written, before defaults (§2)' },
  'manifest-resolved': { schema: Manifest, io: 'output', title: 'Job manifest with defaults applied: what is hashed (§2)' },
  'job-sheet': { schema: JobSheetSchema, io: 'output', title: 'Job sheet (§2)' },
  'inputs-blob': { schema: InputsBlob, io: 'output', title: 'Inputs blob named by state.inputs (§6.4)' },
  'dataset-index': { schema: DatasetIndex, io: 'output', title: "Distributor's dataset index blob (§4.8, §13.3)" },
  submission: { schema: Submission, io: 'output', title: 'Signed submission, /canopy/submit/1.0.0 request and stored blob (§11)' },
  'submit-reply': { schema: SubmitReply, io: 'output', title: '/canopy/submit/1.0.0 reply (§11)' },
  announcement: { schema: Announce, io: 'output', title: 'Job announcement on canopy/1/announce (§11)' },
  'blob-request': { schema: BlobRequest, io: 'output', title: '/canopy/blob/1.0.0 request (§12)' },
  'blob-response': { schema: BlobResponse, io: 'output', title: '/canopy/blob/1.0.0 response header (§12)' },
};

/** The JSON Schema (draft 2020-12) of one entry of {@link WIRE_SCHEMAS}, as published. */
export function wireJsonSchema(stem: string): Record<string, unknown> {
  const entry = WIRE_SCHEMAS[stem];
  if (!entry) throw new Error(`no wire schema named ${stem}`);
  const generated = z.toJSONSchema(entry.schema, { io: entry.io, unrepresentable: 'any', target: 'draft-2020-12' }) as Record<string, unknown>;
  return { title: entry.title, ...generated };
}

/** The text of `docs/protocol/schemas/<stem>.schema.json`: stable key order, two-space indent, a final newline. */
export function wireJsonSchemaText(stem: string): string {
  return `${JSON.stringify(wireJsonSchema(stem), null, 2)}\n`;
}
