import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeStore } from './nodeStore.js';
import type { CorruptFileReport } from './quarantine.js';

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

  it('quarantines a corrupt state file and reports it with its path instead of silently starting over', async () => {
    const reports: CorruptFileReport[] = [];
    const store = new NodeStore(dir, 3, { onCorrupt: (r) => reports.push(r) });
    await store.saveState('j', 'host', { ok: true });
    const path = join(dir, 'jobs', 'j', 'host.json');
    await writeFile(path, (await readFile(path, 'utf8')).slice(0, -3));
    await expect(store.loadState('j', 'host')).rejects.toThrow(/host\.json is corrupt \(its content hashes to .*truncated or changed\); moved aside to .*quarantine/);
    expect(reports.map((r) => r.path)).toEqual([path]);
    expect(await readdir(join(dir, 'jobs', 'j'))).toEqual([]);
    expect(await readdir(join(dir, 'quarantine'))).toHaveLength(1);
    // Gone from where it was: the next read finds nothing rather than the same corrupt file.
    expect(await store.loadState('j', 'host')).toBeUndefined();
  });

  it.each([
    ['a flipped byte in the body', (t: string) => t.replace('"round":7', '"round":9')],
    ['a flipped byte in the checksum line', (t: string) => `#canopy-sha257${t.slice(14)}`],
    ['an empty file', () => ''],
    ['a legacy file that is not JSON', () => '{"round": 7'],
  ])('finds %s on read', async (_what, damage) => {
    const store = new NodeStore(dir);
    await store.saveState('j', 'client', { round: 7 });
    const path = join(dir, 'jobs', 'j', 'client.json');
    await writeFile(path, damage(await readFile(path, 'utf8')));
    await expect(store.loadState('j', 'client')).rejects.toMatchObject({ code: 'CORRUPT_FILE', path });
  });

  it('reads a legacy state file written without a checksum line', async () => {
    const store = new NodeStore(dir);
    await store.saveState('j', 'host', { round: 1 });
    await writeFile(join(dir, 'jobs', 'j', 'host.json'), '{"round":2}');
    expect(await store.loadState('j', 'host')).toEqual({ round: 2 });
  });

  it('restores from the newest intact checkpoint, quarantining the corrupt newer ones and saying why', async () => {
    const reports: CorruptFileReport[] = [];
    const store = new NodeStore(dir, 3, { onCorrupt: (r) => reports.push(r) });
    for (const [round, seq] of [[3, 100], [4, 200], [4, 300]] as const) await store.saveCheckpoint('j', round, { round, seq }, seq);
    const files = await store.checkpoints('j');
    expect(files.map((f) => [f.round, f.seq])).toEqual([[4, 300], [4, 200], [3, 100]]);
    await truncate(join(dir, 'jobs', 'j', files[0]!.file), 10);
    const use = (cp: unknown) => {
      if ((cp as { seq: number }).seq === 200) throw new Error('from another version');
      return cp;
    };
    const r = await store.restoreCheckpoint('j', use);
    expect(r.restored?.value).toEqual({ round: 3, seq: 100 });
    expect(r.restored?.from.file).toBe(files[2]!.file);
    expect(r.skipped.map((x) => x.file)).toEqual([files[0]!.file, files[1]!.file]);
    expect(r.skipped[0]!.problem).toMatch(/truncated/);
    expect(r.skipped[1]!.problem).toBe('from another version');
    expect(reports).toHaveLength(1);
    // The unusable-but-intact one stays; the corrupt one is gone from the job's folder.
    expect((await store.checkpoints('j')).map((f) => f.seq)).toEqual([200, 100]);
  });

  it('finds no checkpoint to restore when every one is corrupt', async () => {
    const store = new NodeStore(dir);
    await store.saveCheckpoint('j', 1, { round: 1 }, 5);
    await writeFile(join(dir, 'jobs', 'j', (await store.checkpoints('j'))[0]!.file), 'garbage');
    const r = await store.restoreCheckpoint('j', (cp) => cp);
    expect(r.restored).toBeUndefined();
    expect(r.skipped).toHaveLength(1);
  });

  it('leaves a corrupt receipt out of the list, and quarantines it', async () => {
    const reports: CorruptFileReport[] = [];
    const store = new NodeStore(dir, 3, { onCorrupt: (r) => reports.push(r) });
    await store.saveReceipt('a', { id: 'a' });
    await store.saveReceipt('b', { id: 'b' });
    await writeFile(join(dir, 'receipts', 'b.json'), (await readFile(join(dir, 'receipts', 'b.json'), 'utf8')).replace('"b"', '"c"'));
    expect(await store.receipts()).toEqual([{ id: 'a' }]);
    expect(reports).toHaveLength(1);
  });

  it.each([['../escape'], ['a/b'], ['..']])('keeps the job name %s inside the jobs folder', async (name) => {
    const store = new NodeStore(dir);
    await store.saveState(name, 'host', { x: 1 });
    expect(await store.jobs()).toEqual([name]);
    expect(await readdir(dir)).toEqual(['jobs']);
  });
});
