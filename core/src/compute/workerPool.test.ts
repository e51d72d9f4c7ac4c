import { afterEach, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { WorkerPool, WorkerTaskError } from './workerPool.js';
import { AbortedError } from '../util/errors.js';

const script = new URL('../../test-fixtures/computeWorker.mjs', import.meta.url);
if (!existsSync(fileURLToPath(new URL('../../dist/compute/serveTasks.js', import.meta.url)))) {
  throw new Error('core/dist is missing: run `npm run build` (npm test does) before these tests');
}

describe('WorkerPool', () => {
  let pool: WorkerPool | undefined;
  afterEach(async () => {
    await pool?.stop();
  });

  it('runs tasks on real threads and moves buffers without copying', async () => {
    pool = new WorkerPool({ script, size: 2 });
    expect(await Promise.all([1, 2, 3, 4].map((x) => pool!.run<number>('square', x)))).toEqual([1, 4, 9, 16]);
    const arr = new Float64Array([1, 2, 3.5]);
    expect(await pool.run<number>('sum', { buffer: arr.buffer }, { transfer: [arr.buffer] })).toBe(6.5);
    expect(arr.byteLength).toBe(0); // transferred, not copied
  });

  it('stop fails the tasks still running instead of leaving their promises pending', async () => {
    pool = new WorkerPool({ script, size: 1 });
    const running = pool.run('slow', 1000).catch((e: unknown) => e);
    await pool.stop();
    expect(await running).toMatchObject({ code: 'ABORTED', message: 'the compute pool was stopped while running slow' });
  });

  it('keeps tasks with the same affinity on the same thread', async () => {
    pool = new WorkerPool({ script, size: 2 });
    const a = await Promise.all([1, 2, 3].map(() => pool!.run<number>('threadId', null, { affinity: 'client-7' })));
    expect(new Set(a).size).toBe(1);
  });

  it('reports progress, and carries a thread error across with its name and code', async () => {
    pool = new WorkerPool({ script, size: 1 });
    const seen: unknown[] = [];
    expect(await pool.run('slow', 30, { onProgress: (p) => seen.push(p) })).toBe('done');
    expect(seen).toEqual([1, 2, 3]);
    const err = await pool.run('fail', null).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkerTaskError);
    expect(err).toMatchObject({ remoteName: 'DataFileError', code: 'BAD_DATA_FILE', message: 'bad things' });
    await expect(pool.run('nope', null)).rejects.toThrow(/no handler for task "nope"/);
  });

  it('fails the tasks of a crashed thread and replaces the thread', async () => {
    pool = new WorkerPool({ script, size: 1 });
    await expect(pool.run('crash', null)).rejects.toThrow(/exited with code 3 while running crash/);
    expect(await pool.run<number>('square', 5)).toBe(25);
  });

  it('rejects an aborted task at once', async () => {
    pool = new WorkerPool({ script, size: 1 });
    const ac = new AbortController();
    const p = pool.run('slow', 300, { signal: ac.signal });
    ac.abort();
    await expect(p).rejects.toBeInstanceOf(AbortedError);
    expect(await pool.run<number>('square', 3)).toBe(9);
  });

  it('an abort reaches a thread that never yields, and a task queued behind it never runs', async () => {
    pool = new WorkerPool({ script, size: 1 });
    const ac = new AbortController();
    const spinning = pool.run('spin', 20_000, { signal: ac.signal }).catch((e: unknown) => e);
    const queued = pool.run('mark', 'queued', { signal: ac.signal }).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 100));
    const t = performance.now();
    ac.abort();
    expect(await spinning).toBeInstanceOf(AbortedError);
    expect(await queued).toBeInstanceOf(AbortedError);
    // One queue per thread: this runs once the spinning task saw its flag (else 20 s later).
    expect(await pool.run('ran', null)).toEqual([]);
    expect(performance.now() - t).toBeLessThan(5_000);
  });
});
