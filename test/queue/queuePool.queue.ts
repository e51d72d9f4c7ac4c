import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { ComputePool } from '@canopy/core/compute';
import { QUEUE_NAME, QueuePool, QueueUnavailableError, runSimWorker, WorkerRefusedError, computeVersion } from '@canopy/simulator';
import { RedisBlobs } from '../../simulator/src/queue/redisBlobs.js';
import { redisAvailable, startRedis, type LocalRedis } from './redisServer.js';

// The queue's own guarantees against a real redis-server: results equal a compute thread's,
// and every way it can go wrong ends in a clear error instead of a hang or a wrong answer.

const MODEL = { kind: 'mlp', inputShape: [784], numClasses: 10 } as const;

describe.runIf(redisAvailable())('the compute queue against a real Redis', () => {
  let redis: LocalRedis;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('runs a task on a sim-worker and returns the bytes a compute thread returns', async () => {
    const abort = new AbortController();
    const worker = runSimWorker({ url: redis.url, signal: abort.signal });
    const pool = new QueuePool({ url: redis.url, job: 'job-a' });
    const local = ComputePool.start({ size: 1 });
    try {
      const [remote, here] = await Promise.all([pool.run('initParams', { model: MODEL, seed: 7 }), local.run('initParams', { model: MODEL, seed: 7 })]);
      expect(Buffer.from(remote.params).equals(Buffer.from(here.params))).toBe(true);
      const report = pool.report();
      expect(report.tasks).toBe(1);
      expect(report.workers).toHaveLength(1);
    } finally {
      await pool.stop();
      await local.stop();
      abort.abort();
    }
    expect((await worker).tasks).toBe(1);
  });

  it('a worker of another compute version hands the task back and stops; a matching worker then runs it', async () => {
    const pool = new QueuePool({ url: redis.url, job: 'job-b' });
    const stale = runSimWorker({ url: redis.url, version: '0.0.0+q0' });
    const task = pool.run('initParams', { model: MODEL, seed: 3 });
    await expect(stale).rejects.toThrow(WorkerRefusedError);
    await expect(stale).rejects.toThrow(/compute version .*\+q\d+, this worker runs 0\.0\.0\+q0; it stopped and the task went back to the queue/);
    const abort = new AbortController();
    const good = runSimWorker({ url: redis.url, signal: abort.signal });
    try {
      expect((await task).params.byteLength).toBeGreaterThan(0);
    } finally {
      await pool.stop();
      abort.abort();
      await good;
    }
  });

  it('a worker pinned to another job refuses the task', async () => {
    const pool = new QueuePool({ url: redis.url, job: 'job-c' });
    const pinned = runSimWorker({ url: redis.url, job: 'some-other-job' });
    const task = pool.run('initParams', { model: MODEL, seed: 3 });
    task.catch(() => undefined);
    try {
      await expect(pinned).rejects.toThrow(/belongs to job job-c, this worker serves some-other-j only/);
    } finally {
      await pool.stop();
    }
    await expect(task).rejects.toThrow(/stopped/);
  });

  it('with tasks queued and no worker for its version, the run fails with a clear error naming the refusing ones', async () => {
    const pool = new QueuePool({ url: redis.url, job: 'job-d', version: `${computeVersion()}-other`, noWorkerTimeoutMs: 1500, statusEveryMs: 200 });
    const fatal: Error[] = [];
    pool.onFatal = (e) => fatal.push(e);
    try {
      await expect(pool.run('initParams', { model: MODEL, seed: 1 })).rejects.toThrow(/no sim-worker for compute version .*-other has been live on redis:\/\/127\.0\.0\.1:\d+ for 2 s with 1 task\(s\) waiting; start one with `canopy sim-worker --queue/);
      expect(fatal).toHaveLength(1);
      await expect(pool.run('initParams', { model: MODEL, seed: 1 })).rejects.toThrow(QueueUnavailableError);
    } finally {
      await pool.stop();
    }
  });

  it('a Redis that is not there fails the first task within the grace, in one line', async () => {
    const pool = new QueuePool({ url: 'redis://127.0.0.1:1', job: 'job-e', redisGraceMs: 1000 });
    try {
      await expect(pool.run('initParams', { model: MODEL, seed: 1 })).rejects.toThrow(/^cannot reach Redis at redis:\/\/127\.0\.0\.1:1 within 1 s \(.*\); start it/);
    } finally {
      await pool.stop();
    }
  });

  it('a malformed task fails with a clear reason, and the worker goes on serving', async () => {
    const abort = new AbortController();
    const worker = runSimWorker({ url: redis.url, signal: abort.signal });
    const queue = new Queue(QUEUE_NAME, { connection: { host: '127.0.0.1', port: redis.port }, prefix: 'canopy' });
    const pool = new QueuePool({ url: redis.url, job: 'job-f' });
    try {
      const job = await queue.add('train', { v: 'x', hostile: true }, { attempts: 1 });
      const until = Date.now() + 20_000;
      while ((await job.getState()) !== 'failed' && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
      const failed = await queue.getJob(job.id!);
      expect(failed?.failedReason).toMatch(/^task \d+ is malformed; a simulation of another Canopy version may have queued it$/);
      expect((await pool.run('initParams', { model: MODEL, seed: 2 })).params.byteLength).toBeGreaterThan(0);
    } finally {
      await pool.stop();
      await queue.close();
      abort.abort();
      await worker;
    }
  });

  it('a blob whose bytes do not match its hash is refused, not used', async () => {
    const client = new Redis({ host: '127.0.0.1', port: redis.port });
    try {
      const writer = new RedisBlobs(client, { inlineMax: 0 });
      const ref = await writer.put(new Uint8Array([1, 2, 3, 4]));
      if (!('$blob' in ref)) throw new Error('expected a Redis blob');
      await client.set(`canopy:blob:${ref.$blob}`, Buffer.from([1, 2, 3, 5]));
      const reader = new RedisBlobs(client);
      await expect(reader.get(ref)).rejects.toThrow(/does not match its hash; refusing it/);
      await client.del(`canopy:blob:${ref.$blob}`);
      await expect(reader.get(ref)).rejects.toThrow(/is not in Redis/);
    } finally {
      client.disconnect();
    }
  });
});
