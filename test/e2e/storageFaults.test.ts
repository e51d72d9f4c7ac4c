import { afterAll, describe, expect, it } from 'vitest';
import { mkdir, readdir, readFile, rename, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeCheckedJson } from '../../core/src/storage/checkedJson.js';
import { closedRounds, leafManifest, startTestCluster, type TestCluster } from './cluster.js';

// Faults of a node's own disk, on real `canopy node` processes (issue #14's table): a
// checkpoint that cannot be written, a host restarted with its newest checkpoint truncated
// and its stored submission blob corrupted. The job must still finish, every client with
// the same final model, and each fault must be in the host's log with the file's path.
describe('e2e: a host whose disk fails it', () => {
  let c: TestCluster | undefined;
  afterAll(async () => {
    await c?.stop();
  });

  it('holds its publishing while a checkpoint cannot be written, and resumes past a truncated checkpoint and a corrupt submission blob', async () => {
    c = await startTestCluster(leafManifest({ stop: { rounds: 4 } }), (name) =>
      name.startsWith('c') ? ['--approve-datasets', '--compute', 'synthetic', '--synthetic-train-ms', '1500'] : ['--approve-datasets', '--compute', 'synthetic'],
    );
    const rootId = await c.submit();
    const hostDir = c.plan.nodes.find((n) => n.name === 'host')!.dataDir;
    const cpDir = join(hostDir, 'jobs', encodeURIComponent(`${rootId}:e2e`).replace(/\./g, '%2E'));
    await c.waitFor('host', (r) => r.msg === 'round finished' && r.round === 1);

    // The checkpoint folder becomes a file: every write fails (as on a full disk) until it is back.
    await writeFile(`${cpDir}.file`, 'not a folder');
    await rename(cpDir, `${cpDir}.aside`);
    // The host may recreate the folder between the two renames: then that one goes too.
    await rename(`${cpDir}.file`, cpDir).catch(async () => {
      await rm(cpDir, { recursive: true });
      await rename(`${cpDir}.file`, cpDir);
    });
    const failed = await c.waitFor('host', (r) => r.msg === 'checkpoint write failed: the host publishes nothing more until it is written; retrying');
    const roundsWhenFailed = closedRounds(c);
    await new Promise((r) => setTimeout(r, 4000));
    expect(closedRounds(c), 'no round closes while the checkpoint is not durable').toEqual(roundsWhenFailed);
    expect(failed.code).toBeTruthy();
    await rm(cpDir);
    await rename(`${cpDir}.aside`, cpDir);
    await c.waitFor('host', (r) => r.msg === 'checkpoint written after failing; the host publishes again');

    await c.waitFor('host', (r) => r.msg === 'round finished' && r.round === 2);
    await c.kill('host');
    // The newest checkpoint truncated, and a byte of the stored submission flipped.
    const newest = (await readdir(cpDir)).filter((f) => f.startsWith('checkpoint-')).sort().at(-1)!;
    await truncate(join(cpDir, newest), 40);
    const record = decodeCheckedJson(await readFile(join(hostDir, 'jobs', rootId, 'runtime.json'), 'utf8'));
    expect(record.ok).toBe(true);
    const hash = (record as { value: { submission: { hash: string } } }).value.submission.hash;
    const blob = join(hostDir, 'blobs', hash.slice(0, 2), hash);
    const bytes = await readFile(blob);
    bytes[10]! ^= 0x20;
    await writeFile(blob, bytes);

    await c.restart('host');
    const quarantined = () => c!.records('host').filter((r) => r.msg === 'corrupt file quarantined').map((r) => String(r.path));
    await c.waitFor('host', (r) => r.msg === 'fetched the stored job\'s submission again from a peer');
    const restored = await c.waitFor('host', (r) => r.msg === 'newer checkpoints were unusable; the host restored from an older one');
    expect(restored.skipped, JSON.stringify(restored)).toMatchObject([{ file: newest }]);
    expect(quarantined()).toEqual(expect.arrayContaining([blob, join(cpDir, newest)]));
    const resumed = await c.waitFor('host', (r) => r.msg === 'job resumed');
    expect(JSON.stringify(resumed.resumedFrom)).toMatch(/checkpoint of round \d+/);
    await mkdir(join(hostDir, 'quarantine'), { recursive: true });
    expect((await readdir(join(hostDir, 'quarantine'))).length).toBe(2);

    const done = await c.waitFor('host', (r) => r.msg === 'machine finished' && r.role === 'host', 180_000);
    expect(String(done.reason)).toMatch(/^rounds/);
    expect(closedRounds(c).at(-1)).toBe(4);
    const clientsFinal = ['c0', 'c1', 'c2', 'c3'].map((n) => c!.records(n).find((r) => r.msg === 'machine finished')?.final);
    expect(new Set(clientsFinal).size, JSON.stringify(clientsFinal)).toBe(1);
    expect(clientsFinal[0]).toBeTruthy();
  }, 300_000);

  it('a host restarted with every checkpoint corrupt says so and ends the job with that reason, rather than stalling', async () => {
    await c?.stop();
    c = await startTestCluster(leafManifest({ stop: { rounds: 4 } }), (name) =>
      name.startsWith('c') ? ['--approve-datasets', '--compute', 'synthetic', '--synthetic-train-ms', '1500'] : ['--approve-datasets', '--compute', 'synthetic'],
    );
    const rootId = await c.submit();
    const hostDir = c.plan.nodes.find((n) => n.name === 'host')!.dataDir;
    const cpDir = join(hostDir, 'jobs', encodeURIComponent(`${rootId}:e2e`).replace(/\./g, '%2E'));
    await c.waitFor('host', (r) => r.msg === 'round finished' && r.round === 2);
    await c.kill('host');
    const files = (await readdir(cpDir)).filter((f) => f.startsWith('checkpoint-'));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) await writeFile(join(cpDir, f), 'garbage');
    await c.restart('host');
    const none = await c.waitFor('host', (r) => r.msg === 'no checkpoint of this host is usable: it starts the job afresh, and ends it with that reason if its members report a later round (§6.8)');
    expect((none.skipped as unknown[]).length).toBe(files.length);
    const done = await c.waitFor('host', (r) => r.msg === 'machine finished' && r.role === 'host', 120_000);
    expect(String(done.reason)).toMatch(/^failed: the root host restarted without its state of round [23] \(it could restore only nothing/);
    // The members accepted that ending (it is in their round) and finished with its reason.
    const clientReasons = await Promise.all(['c0', 'c1', 'c2', 'c3'].map((n) => c!.waitFor(n, (r) => r.msg === 'machine finished', 60_000).then((r) => String(r.reason))));
    for (const [i, r] of clientReasons.entries()) expect(r, `c${i}`).toBe(String(done.reason));
  }, 300_000);
});
