import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { Worker, WaitingError, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { ComputePool } from '@canopy/core/compute';
import type { MlTasks } from '@canopy/core/compute/thread';
import type { BackendPreference } from '@canopy/core/ml';
import { BadInputError, type Log } from '@canopy/core/util';
import { decodeBlobs, encodeBlobs, RedisBlobs } from './redisBlobs.js';
import {
  computeVersion,
  KEY_PREFIX,
  keys,
  LOCK_MS,
  MAX_STALLS,
  parseQueueUrl,
  PREFETCH,
  QUEUE_NAME,
  QueueUnavailableError,
  STALLED_CHECK_MS,
  TaskMessage,
  WORKER_RECORD_MS,
  WorkerRefusedError,
  type TaskAnswer,
  type WorkerRecord,
} from './queueProtocol.js';

/** Options of {@link runSimWorker}. */
export interface SimWorkerInit {
  /** redis://HOST:PORT[/DB] */
  readonly url: string;
  /** Compute threads, and tasks computed at once (default 1). */
  readonly threads?: number;
  /** Tasks taken beyond the threads, fetched while the threads compute (default PREFETCH). */
  readonly prefetch?: number;
  readonly backend?: BackendPreference;
  /** Serve only this job (see scenarioJobHash); null or absent: any job of this version. */
  readonly job?: string | null;
  /** Compute version this worker runs; default: this build's. */
  readonly version?: string;
  /** Bytes of members' data kept loaded; the least recently used is dropped past it. */
  readonly cacheBytes?: number;
  /** Redis unreachable this long ends the worker with an error. */
  readonly redisGraceMs?: number;
  readonly log?: Log;
  /** Ends the worker when aborted (after its running tasks finish). */
  readonly signal?: AbortSignal;
  /** Called when the worker is connected and takes tasks. */
  readonly onReady?: (id: string) => void;
}

/** What a worker did before it stopped. */
export interface SimWorkerSummary {
  readonly id: string;
  readonly tasks: number;
}

interface Shard {
  readonly key: string;
  readonly bytes: number;
  readonly loaded: Promise<MlTasks['loadData']['result']>;
}

/**
 * A `canopy sim-worker`: takes simulation tasks from the BullMQ queue in Redis and runs them
 * on compute threads with the same handlers a simulation's own threads use, so a result is
 * bit-identical wherever it ran. Members' data is loaded once per content and kept (LRU by
 * bytes). A task of another compute version, or of another job than the one the worker is
 * pinned to, goes back to the queue untouched and the worker stops with WorkerRefusedError.
 * Resolves when `signal` aborts; rejects when Redis stays away longer than the grace.
 */
export async function runSimWorker(init: SimWorkerInit): Promise<SimWorkerSummary> {
  const where = parseQueueUrl(init.url);
  const version = init.version ?? computeVersion();
  const threads = init.threads ?? 1;
  const prefetch = init.prefetch ?? PREFETCH;
  const id = `${hostname()}-${process.pid}-${randomUUID().slice(0, 4)}`;
  const retryStrategy = (n: number) => Math.min(100 * n, 1000);
  const redis = new Redis({ host: where.host, port: where.port, db: where.db, maxRetriesPerRequest: 1, retryStrategy, connectTimeout: 5000 });
  let lastError = 'no error reported';
  redis.on('error', (e: Error) => (lastError = e.message));
  const grace = init.redisGraceMs ?? 30_000;
  try {
    await withTimeout(redis.ping(), grace);
  } catch {
    redis.disconnect();
    throw new QueueUnavailableError(`cannot reach Redis at ${where.url} within ${grace / 1000} s (${lastError})`);
  }
  const blobs = new RedisBlobs(redis, { ttlSeconds: 600, cacheBytes: 128 * 1024 * 1024 });
  const pool = ComputePool.start({ size: threads, ...(init.backend ? { backend: init.backend } : {}) });
  const shards = new Map<string, Shard>();
  let shardBytes = 0;
  const cacheBytes = init.cacheBytes ?? 1024 * 1024 * 1024;
  let tasks = 0;
  let stopping: Promise<void> | undefined;
  let failure: Error | undefined;
  let finished!: () => void;
  const done = new Promise<void>((resolve) => (finished = resolve));

  // A member's data, loaded into one thread under a key naming its content, so members of
  // different runs never share a slot and a reloaded member is the same entry.
  const shardFor = (data: NonNullable<TaskMessage['data']>): Shard => {
    const key = `${data.key}@${data.id}`;
    const hit = shards.get(key);
    if (hit) {
      shards.delete(key);
      shards.set(key, hit);
      return hit;
    }
    const size = typeof data.source.bytes === 'object' && data.source.bytes !== null && 'size' in data.source.bytes ? Number(data.source.bytes.size) : 0;
    const loaded = (async () => {
      const source = (await decodeBlobs(data.source, (ref) => blobs.get(ref))) as MlTasks['loadData']['payload']['source'];
      return pool.run('loadData', { key, source }, { affinity: key });
    })();
    const shard = { key, bytes: size, loaded };
    shards.set(key, shard);
    shardBytes += size;
    loaded.catch(() => {
      if (shards.get(key) === shard) {
        shards.delete(key);
        shardBytes -= size;
      }
    });
    for (const [k, s] of shards) {
      if (shardBytes <= cacheBytes || s === shard) break;
      shards.delete(k);
      shardBytes -= s.bytes;
      void s.loaded.then(() => pool.run('dropData', { key: k }, { affinity: k })).catch(() => undefined);
    }
    return shard;
  };

  const refuse = (why: string) => {
    failure ??= new WorkerRefusedError(`sim-worker ${id} refused a task: ${why}; it stopped and the task went back to the queue`);
    void stop();
  };

  // A task computes only on a free thread; the ones taken beyond (prefetch) wait here with
  // their blobs fetched, so the thread goes from one task to the next without a Redis round trip.
  let free = threads;
  const waiting: Array<() => void> = [];
  const slot = async (): Promise<() => void> => {
    if (free > 0) free--;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    return () => {
      const next = waiting.shift();
      if (next) next();
      else free++;
    };
  };

  const handle = async (job: Job, token?: string): Promise<TaskAnswer> => {
    const started = performance.now();
    const parsed = TaskMessage.safeParse(job.data);
    if (!parsed.success) throw new BadInputError(`task ${job.id} is malformed; a simulation of another Canopy version may have queued it`);
    const msg = parsed.data;
    const pinned = init.job ?? null;
    if (msg.v !== version || (pinned !== null && msg.job !== pinned)) {
      await job.moveToWait(token);
      refuse(msg.v !== version ? `it is of compute version ${msg.v}, this worker runs ${version}` : `it belongs to job ${msg.job.slice(0, 12)}, this worker serves ${pinned!.slice(0, 12)} only`);
      throw new WaitingError();
    }
    const payload = msg.kind === 'loadData' ? undefined : ((await decodeBlobs(msg.payload, (ref) => blobs.get(ref))) as Record<string, unknown>);
    const queued = performance.now();
    const release = await slot();
    const computing = performance.now();
    let result: unknown;
    try {
      init.log?.debug({ task: job.id, kind: msg.kind, run: msg.run }, 'task started');
      const shard = msg.data ? shardFor(msg.data) : undefined;
      const counts = shard ? await shard.loaded : undefined;
      if (msg.kind === 'loadData') result = counts;
      else {
        if (shard) payload!.key = shard.key;
        result = await pool.run(msg.kind, payload as never, shard ? { affinity: shard.key } : {});
      }
    } finally {
      release();
    }
    const computed = performance.now();
    tasks++;
    const encoded = (await encodeBlobs(result, (b) => blobs.put(b))) as Record<string, unknown>;
    const end = performance.now();
    const computeMs = computed - computing;
    const handlingMs = end - started - (computing - queued) - computeMs;
    const waitedMs = (job.processedOn ?? Date.now()) - job.timestamp + (computing - queued);
    return { worker: id, host: hostname(), waitedMs: round1(waitedMs), ranMs: round1(handlingMs + computeMs), computeMs: round1(computeMs), handlingMs: round1(handlingMs), result: encoded };
  };

  const connection = { host: where.host, port: where.port, db: where.db, maxRetriesPerRequest: null, retryStrategy };
  const worker = new Worker(QUEUE_NAME, handle, {
    connection,
    prefix: KEY_PREFIX,
    concurrency: threads + prefetch,
    lockDuration: LOCK_MS,
    stalledInterval: STALLED_CHECK_MS,
    maxStalledCount: MAX_STALLS,
    autorun: false,
  });
  worker.on('error', (e: Error) => (lastError = e.message));
  worker.on('failed', (job, err) => {
    if (!(err instanceof WaitingError)) init.log?.warn({ task: job?.id, kind: job?.name, error: err.message }, 'task failed');
  });

  const record: WorkerRecord = { id, host: hostname(), pid: process.pid, threads, version, job: init.job ?? null, startedAt: Date.now() };
  const announce = () => redis.set(keys.worker(id), JSON.stringify(record), 'PX', WORKER_RECORD_MS).catch(() => undefined);
  let downSince: number | null = null;
  const beat = setInterval(() => {
    if (redis.status === 'ready') {
      downSince = null;
      void announce();
    } else {
      downSince ??= Date.now();
      if (Date.now() - downSince >= grace) {
        failure ??= new QueueUnavailableError(`sim-worker ${id} lost Redis at ${where.url} for ${Math.round(grace / 1000)} s (${lastError})`);
        void stop();
      }
    }
  }, WORKER_RECORD_MS / 3);

  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      clearInterval(beat);
      const healthy = redis.status === 'ready';
      // A worker whose Redis is gone cannot hand back its tasks: their locks expire and
      // another worker takes them.
      await withTimeout(worker.close(!healthy), healthy ? 60_000 : 2000).catch(() => undefined);
      if (healthy) await redis.del(keys.worker(id)).catch(() => undefined);
      redis.disconnect();
      await worker.disconnect().catch(() => undefined);
      await pool.stop();
      finished();
    })();
    return stopping;
  };
  init.signal?.addEventListener('abort', () => void stop(), { once: true });

  await announce();
  void worker.run().catch((e: Error) => {
    failure ??= new QueueUnavailableError(`sim-worker ${id} stopped taking tasks: ${e.message}`);
    void stop();
  });
  await worker.waitUntilReady();
  init.log?.info({ worker: id, queue: where.url, threads, version, job: init.job ?? null }, 'sim-worker ready');
  init.onReady?.(id);
  await done;
  if (failure) throw failure;
  return { id, tasks };
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<never>((_, reject) => (t = setTimeout(() => reject(new Error('timeout')), ms)))]).finally(() => clearTimeout(t));
}
