import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeStore } from './nodeStore.js';

describe('NodeStore', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'canopy-store-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('saves and reloads role state per job, including sub-job names with #', async () => {
    const store = new NodeStore(dir);
    await store.saveState('mnist#0_1', 'host', { round: 3 });
    await store.saveState('mnist#0_1', 'host', { round: 4 });
    await store.saveState('mnist', 'worker', { status: 2 });
    expect(await store.loadState('mnist#0_1', 'host')).toEqual({ round: 4 });
    expect(await store.loadState('mnist', 'client')).toBeUndefined();
    expect(await store.jobs()).toEqual(['mnist', 'mnist#0_1']);
    // a fresh instance (a restarted node) sees the same
    expect(await new NodeStore(dir).loadState('mnist', 'worker')).toEqual({ status: 2 });
  });

  it('leaves no temporary files behind', async () => {
    const store = new NodeStore(dir);
    for (let i = 0; i < 5; i++) await store.saveState('j', 'host', { i });
    expect(await readdir(join(dir, 'jobs', 'j'))).toEqual(['host.json']);
  });

  it('keeps only the newest checkpoints and returns the latest', async () => {
    const store = new NodeStore(dir, 2);
    for (const round of [1, 2, 3, 10]) await store.saveCheckpoint('j', round, { round });
    expect(await store.checkpointRounds('j')).toEqual([3, 10]);
    expect(await store.latestCheckpoint('j')).toEqual({ round: 10, checkpoint: { round: 10 } });
    expect(await store.latestCheckpoint('none')).toBeUndefined();
  });

  it('reports a corrupt state file with its path instead of silently starting over', async () => {
    const store = new NodeStore(dir);
    await store.saveState('j', 'host', { ok: true });
    await writeFile(join(dir, 'jobs', 'j', 'host.json'), '{"ok": tr');
    await expect(store.loadState('j', 'host')).rejects.toThrow(/host\.json is not valid JSON/);
  });

  it.each([['../escape'], ['a/b'], ['..']])('keeps the job name %s inside the jobs folder', async (name) => {
    const store = new NodeStore(dir);
    await store.saveState(name, 'host', { x: 1 });
    expect(await store.jobs()).toEqual([name]);
    expect(await readdir(dir)).toEqual(['jobs']);
  });
});
