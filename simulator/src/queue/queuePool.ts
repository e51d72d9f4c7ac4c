import { randomUUID } from 'node:crypto';
import { Queue, QueueEvents, type QueueEventsOptions } from 'bullmq';
import { Redis } from 'ioredis';
import type { ComputeTarget, RunOptions } from '@canopy/core/compute';
import type { MlTasks } from '@canopy/core/compute/thread';
import { AbortedError, BadInputError, canonicalJson, sha256Text, UnsupportedError } from '@canopy/core/util';
import { blobHashes, decodeBlobs, encodeBlobs, RedisBlobs } from './redisBlobs.js';
import { computeVersion, KEY_PREFIX, keys, MAX_STALLS, parseQueueUrl, QUEUE_NAME, QueueTaskError, QueueUnavailableError, TaskAnswer, WorkerRecord, type QueueTaskKind, type TaskMessage } from './queueProtocol.js';
import { placementReport, type QueueReport, type QueueStatus } from './queueReport.js';

/** Options of {@link QueuePool}. */
export interface QueuePoolInit {
  /** redis://HOST:PORT[/DB] */
  readonly url: string;
  /** Identifies the simulation's job (model and data); workers pinned to another refuse its tasks. */
  readonly job: string;
  /** Compute version of the tasks; default: this build's. */
  readonly version?: string;
  /** Called with the queue's depth and live workers, every `statusEveryMs`. */
  readonly onStatus?: (status: QueueStatus) => void;
  readonly statusEveryMs?: number;
  /** With tasks queued and no worker able to take them this long, the run fails. */
  readonly noWorkerTimeoutMs?: number;
  /** Redis unreachable this long (at start or during the run) fails the run. */
  readonly redisGraceMs?: number;
}

interface Pending {
  readonly kind: QueueTaskKind;
  readonly key: string;
  resolve(a: TaskAnswer): void;
  reject(e: Error): void;
  stalls: number;
}

interface LoadedData {
  readonly source: Record<string, unknown>;
  readonly id: string;
}

/**
 * The compute pool on a BullMQ queue in Redis (issue #20): each ML task becomes a job that any
 * `canopy sim-worker` connected to the same Redis takes, runs on its own compute threads and
 * answers. Byte arrays travel as content-addressed blobs (redisBlobs.ts); a member's data is
 * uploaded once and named by content in each of its tasks, so a worker loads it the first
 * time it meets it and keeps it. A worker that dies mid-task loses its lock and the task goes
 * back to the queue (BullMQ's stalled-job check), at most MAX_STALLS times. Results are the
 * same bytes a compute thread here would return: workers run the very same task handlers.
 */
export class QueuePool implements ComputeTarget {
  private readonly url: string;
  private readonly version: string;
  private readonly redis: Redis;
  private readonly queue: Queue;
  private readonly events: QueueEvents;
  private readonly blobs: RedisBlobs;
  private readonly ready: Promise<void>;
  private readonly runId = randomUUID().slice(0, 8);
  private readonly pending = new Map<string, Pending>();
  /** Tasks of this run still in the queue or running, answered or not here (removed when the run stops). */
  private readonly queued = new Set<string>();
  private readonly data = new Map<string, LoadedData>();
  /** Blobs this run uploaded, with the in-flight tasks using each (data blobs are pinned until dropped). */
  private readonly uses = new Map<string, number>();
  private readonly pinned = new Map<string, number>();
  private readonly answers: Array<{ kind: QueueTaskKind; answer: TaskAnswer; fetchMs: number }> = [];
  private readonly timer: NodeJS.Timeout;
  private seq = 0;
  private stalls = 0;
  private broken: Error | undefined;
  private lastError = NO_ERROR;
  private downSince: number | null = null;
  private idleSince: number | null = null;
  private last: QueueStatus = { waiting: 0, active: 0, workers: 0, threads: 0, refused: 0, connected: false };
  private polling = false;
  /** Called once when the queue fails in a way no retry mends; the run must end with this error. */
  onFatal: ((e: Error) => void) | undefined;

  constructor(private readonly init: QueuePoolInit) {
    const where = parseQueueUrl(init.url, 'training.queue');
    this.url = where.url;
    this.version = init.version ?? computeVersion();
    const retryStrategy = (n: number) => Math.min(100 * n, 1000);
    const connection = { host: where.host, port: where.port, db: where.db, maxRetriesPerRequest: null, retryStrategy };
    this.redis = new Redis({ host: where.host, port: where.port, db: where.db, maxRetriesPerRequest: 1, retryStrategy, connectTimeout: 5000 });
    this.redis.on('error', (e: Error) => (this.lastError = e.message));
    this.queue = new Queue(QUEUE_NAME, { connection, prefix: KEY_PREFIX, streams: { events: { maxLen: 200_000 } } });
    this.queue.on('error', (e: Error) => (this.lastError = e.message));
    this.blobs = new RedisBlobs(this.redis, { cacheBytes: 256 * 1024 * 1024, skipStored: true });
    // Events are read from the stream's end as it is before any task of this run is added,
    // so no answer can slip by between connecting and listening.
    this.events = new QueueEvents(QUEUE_NAME, { connection, prefix: KEY_PREFIX, autorun: false });
    this.events.on('error', (e: Error) => (this.lastError = e.message));
    this.events.on('completed', ({ jobId, returnvalue }) => this.settle(jobId, returnvalue, null));
    this.events.on('failed', ({ jobId, failedReason }) => this.settle(jobId, undefined, failedReason));
    this.events.on('stalled', ({ jobId }) => {
      const p = this.pending.get(jobId);
      if (p) {
        p.stalls++;
        this.stalls++;
      }
    });
    this.ready = this.connect();
    this.ready.catch(() => undefined);
    this.timer = setInterval(() => void this.poll(), init.statusEveryMs ?? 2000);
    this.timer.unref();
  }

  /** Worker threads of the live workers that can take this run's tasks (at least 1). */
  get size(): number {
    return Math.max(1, this.last.threads);
  }

  /** The queue's depth and live workers, as last polled. */
  get status(): QueueStatus {
    return this.last;
  }

  /** Resolves once `n` workers able to take this run's tasks are live; rejects after `timeoutMs`. */
  async waitForWorkers(n: number, timeoutMs: number): Promise<void> {
    await this.ready;
    const until = Date.now() + timeoutMs;
    for (;;) {
      await this.poll();
      if (this.broken) throw this.broken;
      if (this.last.workers >= n) return;
      if (Date.now() >= until) throw new QueueUnavailableError(`${this.last.workers} of ${n} sim-workers were live on ${this.url} after ${Math.round(timeoutMs / 1000)} s`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /** Where this run's tasks ran and how long they waited. */
  report(): QueueReport {
    return placementReport(this.url, this.answers, this.stalls);
  }

  async run<K extends keyof MlTasks>(kind: K, payload: MlTasks[K]['payload'], opts: RunOptions = {}): Promise<MlTasks[K]['result']> {
    if (this.broken) throw this.broken;
    if (opts.signal?.aborted) throw new AbortedError(kind);
    if (kind === 'dropData') return (await this.drop((payload as MlTasks['dropData']['payload']).key)) as MlTasks[K]['result'];
    if (kind === 'aggregate') throw new UnsupportedError('aggregation runs in the simulation process, not on the queue (docs/SIMULATOR.md)');
    await this.ready;
    const k = kind as QueueTaskKind;
    const p = payload as Record<string, unknown>;
    let data: TaskMessage['data'];
    let body: Record<string, unknown>;
    const used: string[] = [];
    if (k === 'loadData') {
      const { key, source } = payload as MlTasks['loadData']['payload'];
      const enc = (await encodeBlobs(source, (b) => this.blobs.put(b))) as Record<string, unknown>;
      const previous = this.data.get(key);
      const loaded = { source: enc, id: sha256Text(canonicalJson(enc)) };
      this.data.set(key, loaded);
      for (const h of blobHashes(enc)) this.pinned.set(h, (this.pinned.get(h) ?? 0) + 1);
      if (previous) await this.unpin(previous);
      data = { key, source: enc, id: loaded.id };
      body = { key };
    } else {
      if (typeof p.key === 'string') {
        const d = this.data.get(p.key);
        if (!d) throw new BadInputError(`no data loaded under "${p.key}" on the queue; load it first`);
        data = { key: p.key, source: d.source, id: d.id };
      }
      body = (await encodeBlobs(payload, (b) => this.blobs.put(b))) as Record<string, unknown>;
      used.push(...blobHashes(body));
    }
    for (const h of used) this.uses.set(h, (this.uses.get(h) ?? 0) + 1);
    try {
      const message: TaskMessage = { v: this.version, job: this.init.job, run: this.runId, kind: k, payload: body, ...(data ? { data } : {}) };
      const answer = await this.submit(message, typeof p.key === 'string' ? p.key : kind, opts.signal);
      const t0 = performance.now();
      // A result blob is read once: the simulation keeps the bytes, Redis need not (GETDEL),
      // unless it is also one of this run's own inputs.
      const result = (await decodeBlobs(answer.result, (ref) => ('$blob' in ref && !this.uses.has(ref.$blob) && !this.pinned.has(ref.$blob) ? this.blobs.take(ref) : this.blobs.get(ref)))) as MlTasks[K]['result'];
      this.answers.push({ kind: k, answer, fetchMs: performance.now() - t0 });
      return result;
    } finally {
      const done: string[] = [];
      for (const h of used) {
        const n = (this.uses.get(h) ?? 1) - 1;
        if (n > 0) this.uses.set(h, n);
        else {
          this.uses.delete(h);
          if (!this.pinned.has(h)) done.push(h);
        }
      }
      if (done.length > 0 && !this.broken) await this.blobs.delete(done).catch(() => undefined);
    }
  }

  /** Removes this run's queued tasks and blobs from Redis and disconnects. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    const ids = [...this.queued];
    this.fail(new AbortedError('the queue pool was stopped'), false);
    const healthy = !this.broken || this.redis.status === 'ready';
    if (healthy && this.redis.status === 'ready') {
      await withTimeout(
        (async () => {
          for (const id of ids) await this.queue.remove(id).catch(() => undefined);
          await this.blobs.delete([...new Set([...this.pinned.keys(), ...this.uses.keys()])]);
          await Promise.all([this.events.close(), this.queue.close()]);
          await this.redis.quit();
        })(),
        5000,
      ).catch(() => undefined);
    }
    this.redis.disconnect();
    // BullMQ's disconnect waits for a connection that may never come; it gets 2 s.
    await withTimeout(Promise.allSettled([this.events.disconnect(), this.queue.disconnect()]), 2000).catch(() => undefined);
  }

  private async drop(key: string): Promise<MlTasks['dropData']['result']> {
    const d = this.data.get(key);
    this.data.delete(key);
    if (d) await this.unpin(d);
    return { dropped: d !== undefined };
  }

  private async unpin(d: LoadedData): Promise<void> {
    const free: string[] = [];
    for (const h of blobHashes(d.source)) {
      const n = (this.pinned.get(h) ?? 1) - 1;
      if (n > 0) this.pinned.set(h, n);
      else {
        this.pinned.delete(h);
        if (!this.uses.has(h)) free.push(h);
      }
    }
    if (free.length > 0 && !this.broken) await this.blobs.delete(free).catch(() => undefined);
  }

  private submit(message: TaskMessage, key: string, signal?: AbortSignal): Promise<TaskAnswer> {
    const id = `${this.runId}-${++this.seq}`;
    return new Promise<TaskAnswer>((resolve, reject) => {
      const onAbort = () => {
        this.pending.delete(id);
        void this.queue.remove(id).catch(() => undefined);
        reject(new AbortedError(message.kind));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const done = () => signal?.removeEventListener('abort', onAbort);
      this.pending.set(id, {
        kind: message.kind,
        key,
        stalls: 0,
        resolve: (a) => {
          done();
          resolve(a);
        },
        reject: (e) => {
          done();
          reject(e);
        },
      });
      this.queued.add(id);
      this.queue.add(message.kind, message, { jobId: id, attempts: 1, removeOnComplete: true, removeOnFail: { age: 3600 } }).catch((e: Error) => {
        const p = this.pending.get(id);
        this.pending.delete(id);
        p?.reject(new QueueUnavailableError(`could not queue a ${message.kind} task on ${this.url}: ${e.message}`));
      });
    });
  }

  private settle(jobId: string, returnvalue: unknown, failedReason: string | null): void {
    this.queued.delete(jobId);
    const p = this.pending.get(jobId);
    if (!p) return;
    this.pending.delete(jobId);
    if (failedReason !== null) {
      const lost = /stalled more than allowable limit/.test(failedReason);
      // Every loss emits a stalled event; the last one was not retried: the next worker to
      // take the task failed it.
      if (lost && p.stalls > 0) this.stalls--;
      const why = lost ? `it was lost by ${Math.max(p.stalls, MAX_STALLS + 1)} worker(s) that stopped answering (at most ${MAX_STALLS} retries; see docs/SIMULATOR.md)` : failedReason;
      const err = new QueueTaskError(p.kind, `the ${p.kind} task of ${p.key} failed on the queue: ${why}`, lost);
      if (lost) this.onFatal?.(err);
      p.reject(err);
      return;
    }
    const parsed = TaskAnswer.safeParse(typeof returnvalue === 'string' ? safeJson(returnvalue) : returnvalue);
    if (!parsed.success) p.reject(new QueueTaskError(p.kind, `the ${p.kind} task of ${p.key} came back malformed from a worker`));
    else p.resolve(parsed.data);
  }

  private async connect(): Promise<void> {
    const grace = this.init.redisGraceMs ?? 10_000;
    try {
      await withTimeout(
        (async () => {
          await this.redis.ping();
          const last = (await this.redis.xrevrange(`${KEY_PREFIX}:${QUEUE_NAME}:events`, '+', '-', 'COUNT', 1))[0];
          (this.events.opts as QueueEventsOptions).lastEventId = last ? last[0] : '0-0';
          void this.events.run().catch((e: Error) => (this.lastError = e.message));
          await Promise.all([this.queue.waitUntilReady(), this.events.waitUntilReady()]);
        })(),
        grace,
      );
    } catch (e) {
      const err = new QueueUnavailableError(`cannot reach Redis at ${this.url} within ${grace / 1000} s (${this.lastError !== NO_ERROR ? this.lastError : e instanceof Error ? e.message : String(e)}); start it (docs/SIMULATOR.md) or check --queue`);
      this.fail(err, true);
      throw err;
    }
  }

  // Every few seconds: the queue's depth, the live workers, and whether the run can go on.
  private async poll(): Promise<void> {
    if (this.polling || this.broken) return;
    this.polling = true;
    try {
      const now = Date.now();
      const grace = this.init.redisGraceMs ?? 10_000;
      if (this.redis.status !== 'ready') {
        this.downSince ??= now;
        this.last = { ...this.last, connected: false };
        if (now - this.downSince >= grace) {
          this.fail(new QueueUnavailableError(`lost Redis at ${this.url} for ${Math.round(grace / 1000)} s (${this.lastError}) with ${this.pending.size} task(s) unfinished`), true);
          return;
        }
        this.init.onStatus?.(this.last);
        return;
      }
      this.downSince = null;
      const [counts, workers] = await withTimeout(Promise.all([this.queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized'), this.liveWorkers()]), 3000);
      const fit = workers.filter((w) => w.version === this.version && (w.job === null || w.job === this.init.job));
      this.last = {
        waiting: (counts.waiting ?? 0) + (counts.delayed ?? 0) + (counts.prioritized ?? 0),
        active: counts.active ?? 0,
        workers: fit.length,
        threads: fit.reduce((a, w) => a + w.threads, 0),
        refused: workers.length - fit.length,
        connected: true,
      };
      this.idleSince = fit.length > 0 || this.pending.size === 0 ? null : (this.idleSince ?? now);
      const limit = this.init.noWorkerTimeoutMs ?? 60_000;
      if (this.idleSince !== null && now - this.idleSince >= limit) {
        const others = this.last.refused > 0 ? `; ${this.last.refused} worker(s) of another version or job refuse its tasks` : '';
        this.fail(new QueueUnavailableError(`no sim-worker for compute version ${this.version} has been live on ${this.url} for ${Math.round(limit / 1000)} s with ${this.pending.size} task(s) waiting${others}; start one with \`canopy sim-worker --queue ${this.url}\``), true);
        return;
      }
      this.init.onStatus?.(this.last);
    } catch (e) {
      this.lastError = e instanceof Error ? e.message : String(e);
    } finally {
      this.polling = false;
    }
  }

  private async liveWorkers(): Promise<WorkerRecord[]> {
    const found: WorkerRecord[] = [];
    let cursor = '0';
    do {
      const [next, names] = await this.redis.scan(cursor, 'MATCH', keys.workerPattern, 'COUNT', 200);
      cursor = next;
      if (names.length === 0) continue;
      for (const v of await this.redis.mget(...names)) {
        const r = WorkerRecord.safeParse(v === null ? null : safeJson(v));
        if (r.success) found.push(r.data);
      }
    } while (cursor !== '0');
    return found;
  }

  private fail(err: Error, broken: boolean): void {
    if (broken && !this.broken) {
      this.broken = err;
      this.onFatal?.(err);
    }
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      p.reject(err);
    }
  }
}

const NO_ERROR = 'no error reported';

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<never>((_, reject) => (t = setTimeout(() => reject(new Error('timeout')), ms)))]).finally(() => clearTimeout(t));
}
