import { z } from 'zod';
import { BadInputError } from '../util/errors.js';
import { QueryPartial, Refusal } from './partial.js';

// The resource: what travels between nodes as a job's "global parameters" blob
// (docs/ARTIFACTS.md, "Resources"). Self-describing bytes:
//   "CNPA" | u8 version | u32le header length | header (UTF-8 JSON) | model weights (may be empty)
// The header says which phase and round the artifact is in, holds the partial answers by
// tree depth, and the results of the finished steps; the weights are the ML backend's own
// parameter blob, untouched, during and after a train step.

const MAGIC = [0x43, 0x4e, 0x50, 0x41];
const VERSION = 1;

/** The partial answers of one analytics phase, at one depth of the tree. */
export const PhasePartial = z.strictObject({
  /** Nodes that answered (or refused) in this phase, sorted: a node visited twice adds nothing the second time. */
  visited: z.array(z.string()),
  queries: z.array(QueryPartial),
});
export type PhasePartial = z.infer<typeof PhasePartial>;

/** The result of one finished step. */
export const StepResult = z.discriminatedUnion('kind', [
  z.strictObject({ step: z.number().int(), kind: z.literal('count'), name: z.string().optional(), count: z.number(), members: z.array(z.string()), refusals: z.array(Refusal) }),
  z.strictObject({
    step: z.number().int(),
    kind: z.literal('stats'),
    name: z.string().optional(),
    column: z.string(),
    values: z.record(z.string(), z.number().nullable()),
    members: z.array(z.string()),
    refusals: z.array(Refusal),
  }),
  z.strictObject({
    step: z.number().int(),
    kind: z.literal('histogram'),
    name: z.string().optional(),
    column: z.string(),
    edges: z.array(z.number()),
    counts: z.array(z.number()),
    below: z.number(),
    above: z.number(),
    members: z.array(z.string()),
    refusals: z.array(Refusal),
  }),
  z.strictObject({ step: z.number().int(), kind: z.literal('train'), name: z.string().optional(), rounds: z.number().int(), model: z.string() }),
]);
export type StepResult = z.infer<typeof StepResult>;

/** The header of a resource. */
export const ResourceHeader = z.strictObject({
  v: z.literal(1),
  /** Index of the current phase; equal to the number of phases once the artifact is done. */
  phase: z.number().int().min(0),
  /** Root rounds done in the current phase. */
  round: z.number().int().min(0),
  /**
   * Partial answers by depth: slot d holds what the job at depth d has gathered in its
   * current round; a leaf client at depth d answers in slot d + 1 (see execute.ts).
   */
  slots: z.array(PhasePartial.nullable()),
  results: z.array(StepResult),
  /** Members that never answered a phase (offline, no consent, or excluded), by phase. */
  absent: z.array(z.strictObject({ phase: z.number().int(), members: z.array(z.string()) })),
});
export type ResourceHeader = z.infer<typeof ResourceHeader>;

/** A decoded resource. */
export interface Resource {
  readonly header: ResourceHeader;
  readonly weights: Uint8Array;
}

/** Encodes a resource; the same resource always gives the same bytes. */
export function encodeResource(r: Resource): Uint8Array {
  const head = new TextEncoder().encode(JSON.stringify(r.header));
  const out = new Uint8Array(9 + head.byteLength + r.weights.byteLength);
  out.set(MAGIC, 0);
  out[4] = VERSION;
  new DataView(out.buffer).setUint32(5, head.byteLength, true);
  out.set(head, 9);
  out.set(r.weights, 9 + head.byteLength);
  return out;
}

/** Decodes and validates a resource. Throws {@link BadInputError} saying what is wrong. */
export function decodeResource(bytes: Uint8Array): Resource {
  if (bytes.byteLength < 9 || MAGIC.some((m, i) => bytes[i] !== m)) throw new BadInputError('not an artifact resource (no CNPA header); was this blob made by a training job?');
  if (bytes[4] !== VERSION) throw new BadInputError(`artifact resource version ${bytes[4]} is not supported (this build reads ${VERSION})`);
  const len = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(5, true);
  if (9 + len > bytes.byteLength) throw new BadInputError('artifact resource is truncated');
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(9, 9 + len)));
  } catch {
    throw new BadInputError('artifact resource header is not valid JSON');
  }
  const header = ResourceHeader.safeParse(json);
  if (!header.success) throw new BadInputError(`artifact resource header is malformed: ${header.error.issues[0]?.path.join('.')}: ${header.error.issues[0]?.message}`);
  return { header: header.data, weights: bytes.slice(9 + len) };
}
