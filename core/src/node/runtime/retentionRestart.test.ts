import { afterEach, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { validateManifest } from '../../protocol/manifest.js';
import { decodeCheckedJson } from '../../storage/checkedJson.js';
import { createLog } from '../../util/log.js';
import { CanopyNode } from './canopyNode.js';
import { smallJob, testClusters } from './testing.js';
import type { RetentionTable } from './blobRetention.js';
import { manifestBlob } from '../../protocol/machines/hostState.js';

// Retention survives restarts: what a node noted before it stopped (its stored retention
// table) is still collected after it starts again on the same data dir, both while the job
// runs (a client restarted mid-job) and for a job that finished before the restart (the host).
describe('runtime: blob retention across restarts', () => {
  const clusters = testClusters('retrestart');
  const extra: CanopyNode[] = [];
  afterEach(async () => {
    await Promise.all(extra.splice(0).map((n) => n.stop()));
    await clusters.stopAll();
  });

  const tableOf = async (dataDir: string, rootId: string): Promise<string[]> => {
    const decoded = decodeCheckedJson(await readFile(join(dataDir, 'jobs', rootId, 'retention.json'), 'utf8'));
    if (!decoded.ok) throw new Error(decoded.problem);
    return (decoded.value as RetentionTable).map(([hash]) => hash);
  };

  it('a client restarted mid-job, and a host restarted after the job finished, still remove the blobs they noted before', async () => {
    const manifest = validateManifest(smallJob('retrestart', { stop: { rounds: 5 } }));
    const cluster = await clusters.start(manifest, { node: { compute: 'synthetic', consent: { kind: 'approve-all' }, retention: { keepRounds: 1, finishedGraceMs: 1000 }, log: createLog('node', process.env.CANOPY_LOG ?? 'warn') } });
    const host = cluster.nodes.get('host')!;
    const alice = cluster.nodes.get('alice')!;
    const rootId = await cluster.submit();
    const round2 = new Promise<void>((resolve) => host.events.on('round:finished', (d) => d.round === 2 && resolve()));
    await round2;

    // alice stops and starts again on her data dir.
    await alice.stop();
    const aliceNoted = await tableOf(alice.options.dataDir, rootId);
    expect(aliceNoted.length, 'alice noted parameter blobs before stopping').toBeGreaterThan(0);
    const alice2 = new CanopyNode(alice.options);
    extra.push(alice2);
    const aliceDone = alice2.events.once('job:finished');
    await alice2.start();
    const done = await host.events.once('job:finished');
    await aliceDone;
    expect(done.reason).toMatch(/^rounds/);

    // The host stops right after the job finished, within its grace period, and starts again.
    const hostNoted = await tableOf(host.options.dataDir, rootId);
    const manifestHash = manifestBlob(host.runner(rootId)!.tree).ref.hash;
    await host.stop();
    const host2 = new CanopyNode(host.options);
    extra.push(host2);
    await host2.start();
    await new Promise((r) => setTimeout(r, 3000));

    const final = done.final!.hash;
    // Kept for good: the final model, and the manifest blob the host stored (the submission is never noted).
    const kept = new Set([final, manifestHash]);
    const aliceLeft = new Set((await alice2.store.blobs.list()).map((b) => b.hash));
    const hostLeft = new Set((await host2.store.blobs.list()).map((b) => b.hash));
    // Every blob noted before the restart is gone, but the final model (kept) ...
    expect(aliceNoted.filter((h) => !kept.has(h) && aliceLeft.has(h)), 'alice: noted before her restart, still on disk').toEqual([]);
    expect(hostNoted.filter((h) => !kept.has(h) && hostLeft.has(h)), 'host: noted before its restart, still on disk').toEqual([]);
    expect(hostLeft.has(final), 'the final model stays').toBe(true);
    // ... and what is left in the tables is what is kept.
    expect((await tableOf(host.options.dataDir, rootId)).filter((h) => !kept.has(h))).toEqual([]);
  }, 180_000);
});
