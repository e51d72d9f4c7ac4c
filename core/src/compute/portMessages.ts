import { z } from 'zod';
import { ModelSpec, TrainSpec } from '../spec/ml.js';

// The messages between a node and a compute target behind a MessagePort (the desktop app's
// GPU window). Requests and answers have the shapes the compute threads use (workerPool's
// TaskRequest/TaskResponse); both sides decode every message with these schemas.

/** Largest byte payload in one message (a data chunk or a parameter blob). */
export const MAX_PORT_BYTES = 256 * 1024 * 1024;

const Bytes = z.custom<Uint8Array>((v) => v instanceof Uint8Array && v.byteLength <= MAX_PORT_BYTES, { message: `expected a Uint8Array of at most ${MAX_PORT_BYTES} bytes` });
const Key = z.string().min(1).max(512);
const TaskId = z.number().int().positive();
/** 0 answers a request whose id could not be read. */
const ReplyId = z.number().int().min(0);
const Seed = z.number().int();
/** A loss or accuracy: a diverged run reports NaN, which is an answer, not a malformed one. */
const Metric = z.union([z.number(), z.nan()]);
const Count = z.number().int().min(0);

/** A task for the port: only what a window without files can run (data arrives as chunks). */
export const PortTaskRequest = z.discriminatedUnion('kind', [
  z.strictObject({ id: TaskId, kind: z.literal('loadData'), payload: z.strictObject({ key: Key, source: z.strictObject({ kind: z.literal('chunk'), bytes: Bytes }) }) }),
  z.strictObject({ id: TaskId, kind: z.literal('dropData'), payload: z.strictObject({ key: Key }) }),
  z.strictObject({ id: TaskId, kind: z.literal('initParams'), payload: z.strictObject({ model: ModelSpec, seed: Seed }) }),
  z.strictObject({ id: TaskId, kind: z.literal('train'), payload: z.strictObject({ key: Key, model: ModelSpec, train: TrainSpec, global: Bytes, seed: Seed }) }),
  z.strictObject({ id: TaskId, kind: z.literal('evaluate'), payload: z.strictObject({ key: Key, model: ModelSpec, params: Bytes }) }),
]);
export type PortTaskRequest = z.infer<typeof PortTaskRequest>;
export type PortTaskKind = PortTaskRequest['kind'];

/**
 * The node gave up on task `id` (it stopped, or left the job): the window skips it if it has
 * not started, or aborts it at its next check. No answer is expected.
 */
export const PortCancel = z.strictObject({ type: z.literal('cancel'), id: TaskId });
export type PortCancel = z.infer<typeof PortCancel>;

/** Each task kind's result. */
export const PortTaskResult = {
  loadData: z.strictObject({ train: Count, test: Count, name: z.string().max(512) }),
  dropData: z.strictObject({ dropped: z.boolean() }),
  initParams: z.strictObject({ params: Bytes }),
  train: z.strictObject({ params: Bytes, samples: Count, loss: Metric, accuracy: Metric, samplesPerSec: z.number().min(0), backend: z.string().min(1).max(64) }),
  evaluate: z.strictObject({ loss: Metric, accuracy: Metric, samples: Count }),
} satisfies Record<PortTaskKind, z.ZodType>;

/** Local training's progress within a task. */
export const PortProgress = z.strictObject({ epoch: Count, epochs: Count, batch: Count, batches: Count, loss: Metric });

/** Whether the window can run one GPU backend, and why not. */
export const GpuAvailability = z.strictObject({
  available: z.boolean(),
  reason: z.string().max(500).optional(),
  /** The adapter or renderer it found (e.g. SwiftShader, a software rasteriser). */
  device: z.string().max(200).optional(),
  /** The device is a software rasteriser (SwiftShader, llvmpipe): no faster than wasm. */
  software: z.boolean().optional(),
});
export type GpuAvailability = z.infer<typeof GpuAvailability>;

/** The window's first message: the tfjs backend it started and what it found. */
export const PortReady = z.strictObject({
  type: z.literal('ready'),
  v: z.literal(1),
  /** tfjs's name for it: 'webgpu', 'webgl', 'wasm' or 'cpu'. */
  backend: z.string().min(1).max(64),
  /** Why faster backends were skipped, when they were. */
  reason: z.string().max(2000).optional(),
  webgpu: GpuAvailability,
  webgl: GpuAvailability,
});
export type PortReady = z.infer<typeof PortReady>;

/** An answer to a task: its result, its error, or a progress note while it runs. */
export const PortTaskResponse = z.union([
  z.strictObject({ id: TaskId, ok: z.literal(true), result: z.unknown() }),
  z.strictObject({ id: ReplyId, ok: z.literal(false), error: z.strictObject({ name: z.string().max(200), message: z.string().max(4000), code: z.string().max(64).optional() }) }),
  z.strictObject({ id: TaskId, progress: PortProgress }),
]);
export type PortTaskResponse = z.infer<typeof PortTaskResponse>;

/** Anything the window sends. */
export const PortReply = z.union([PortReady, PortTaskResponse]);
export type PortReply = z.infer<typeof PortReply>;

/** One line about what was wrong with a message, for an error reply or a log. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.length > 0 ? i.path.join('.') : '(message)'}: ${i.message}`)
    .join('; ');
}
