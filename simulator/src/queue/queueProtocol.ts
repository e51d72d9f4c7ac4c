import { createRequire } from 'node:module';
import { z } from 'zod';
import { CanopyError, ErrorCode } from '@canopy/core/util';

// The wire of the compute queue (docs/SIMULATOR.md, "Compute on other machines"): what a
// simulation puts in its BullMQ queue, what a `canopy sim-worker` answers, and the keys both
// keep in Redis. Task messages stay small: every byte array in a payload or result travels
// as a content-addressed blob (see redisBlobs.ts) and the message names it.

/** Bumped whenever a task message, result or blob key changes meaning. */
export const QUEUE_PROTOCOL = 2;

/** The BullMQ queue every simulation and sim-worker of one Redis share. */
export const QUEUE_NAME = 'canopy-sim';

/** Prefix of every key Canopy keeps in Redis (BullMQ's keys, blobs, worker records). */
export const KEY_PREFIX = 'canopy';

/** A worker's lock on a task: renewed every half of it; a worker silent this long has lost the task. */
export const LOCK_MS = 8_000;
/**
 * Tasks a worker takes beyond its threads: while a thread computes, the next task's message
 * and blobs are already fetched, and the previous result is uploaded, so a thread never idles
 * on Redis between tasks.
 */
export const PREFETCH = 1;
/** How often live workers look for tasks whose worker lost its lock (BullMQ's stalled-job check). */
export const STALLED_CHECK_MS = 4_000;
/** Times a task may be lost by a dying worker and go back to the queue; the next loss fails it. */
export const MAX_STALLS = 2;
/** A worker's record in Redis lives this long unless renewed (every third of it). */
export const WORKER_RECORD_MS = 9_000;

/**
 * This build's compute version: a worker serves only simulations of the same one, since a
 * task's result must be bit-identical wherever it runs.
 */
export function computeVersion(): string {
  const pkg = createRequire(import.meta.url)('../../package.json') as { version: string };
  return `${pkg.version}+q${QUEUE_PROTOCOL}`;
}

/** A byte array held in Redis under its sha256, or small enough to travel inline (base64). */
export const BlobRefJson = z.union([z.strictObject({ $blob: z.string().regex(/^[0-9a-f]{64}$/), size: z.number().int().min(0) }), z.strictObject({ $inline: z.string() })]);
export type BlobRefJson = z.infer<typeof BlobRefJson>;

/** The ML task kinds a queue carries (aggregation stays in the simulation's process). */
export const QueueTaskKind = z.enum(['loadData', 'initParams', 'train', 'evaluate']);
export type QueueTaskKind = z.infer<typeof QueueTaskKind>;

/** One task in the queue (a BullMQ job's data). */
export const TaskMessage = z.strictObject({
  /** The simulation's compute version ({@link computeVersion}). */
  v: z.string().min(1),
  /** Hash of the simulation's job: a worker pinned to another job refuses the task. */
  job: z.string().min(1),
  /** The simulation run that queued it. */
  run: z.string().min(1),
  kind: QueueTaskKind,
  /** The task's payload (MlTasks), byte arrays replaced by blob refs. */
  payload: z.record(z.string(), z.unknown()),
  /** The member's data, for kinds that read it: a worker loads it once and caches it by content. */
  data: z.strictObject({ key: z.string().min(1), source: z.record(z.string(), z.unknown()), id: z.string().min(1) }).optional(),
});
export type TaskMessage = z.infer<typeof TaskMessage>;

/** A worker's answer (a BullMQ job's return value). */
export const TaskAnswer = z.strictObject({
  worker: z.string(),
  host: z.string(),
  /** Milliseconds from queued to computing: in the queue, then for a free thread on the worker (the simulation's clock against the worker's). */
  waitedMs: z.number(),
  /** Milliseconds the worker spent on the task: handlingMs + computeMs. */
  ranMs: z.number(),
  /** Milliseconds a compute thread ran it. */
  computeMs: z.number().min(0),
  /** Milliseconds of the worker's own work for it: reading the message, fetching its blobs, storing its result. */
  handlingMs: z.number().min(0),
  result: z.record(z.string(), z.unknown()),
});
export type TaskAnswer = z.infer<typeof TaskAnswer>;

/** A live worker's record, renewed while it runs. */
export const WorkerRecord = z.strictObject({
  id: z.string(),
  host: z.string(),
  pid: z.number().int(),
  threads: z.number().int().min(1),
  version: z.string(),
  /** The job it is pinned to, or null for any. */
  job: z.string().nullable(),
  startedAt: z.number(),
});
export type WorkerRecord = z.infer<typeof WorkerRecord>;

/** Redis keys. */
export const keys = {
  blob: (hash: string) => `${KEY_PREFIX}:blob:${hash}`,
  worker: (id: string) => `${KEY_PREFIX}:worker:${id}`,
  workerPattern: `${KEY_PREFIX}:worker:*`,
} as const;

/** Redis is unreachable, or went away during a run. */
export class QueueUnavailableError extends CanopyError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.Network, message, options);
  }
}

/** A task failed on a worker, or was lost by dying workers more often than allowed. */
export class QueueTaskError extends CanopyError {
  constructor(
    readonly kind: string,
    message: string,
    /** Lost by workers that died, more often than allowed (the run cannot go on), rather than failed by the task. */
    readonly lost = false,
  ) {
    super(ErrorCode.BadInput, message);
  }
}

/** A worker met a task of another compute version or job, and handed it back. */
export class WorkerRefusedError extends CanopyError {
  constructor(message: string) {
    super(ErrorCode.Unsupported, message);
  }
}

/**
 * Parses `redis://HOST:PORT[/DB]` (the only form accepted: no password in a command line);
 * throws a one-line error naming the flag otherwise.
 */
export function parseQueueUrl(text: string, where = '--queue'): { host: string; port: number; db: number; url: string } {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new QueueUrlError(`${where}: "${text}" is not a URL; expected redis://HOST:PORT`);
  }
  if (u.protocol !== 'redis:') throw new QueueUrlError(`${where}: "${text}" is not a redis:// URL; expected redis://HOST:PORT`);
  if (u.username || u.password) throw new QueueUrlError(`${where}: put no password in the URL; start Redis bound to a private network instead (docs/SIMULATOR.md)`);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (!host) throw new QueueUrlError(`${where}: "${text}" names no host`);
  const port = u.port === '' ? 6379 : Number(u.port);
  const path = u.pathname.replace(/^\//, '');
  const db = path === '' ? 0 : Number(path);
  if (!Number.isInteger(db) || db < 0 || db > 15) throw new QueueUrlError(`${where}: "${path}" is not a Redis database number (0-15)`);
  return { host, port, db, url: `redis://${u.host}${db ? `/${db}` : ''}` };
}

/** A malformed --queue / training.queue URL. */
export class QueueUrlError extends CanopyError {
  constructor(message: string) {
    super(ErrorCode.BadInput, message);
  }
}
