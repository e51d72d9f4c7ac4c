import { afterAll, describe, expect, it } from 'vitest';
import { closedRounds, leafManifest, startTestCluster, type TestCluster } from './cluster.js';

// The host is killed (SIGKILL: no clean shutdown) in the middle of a round and started again
// on the same data dir. It must resume from its checkpoint: every round closes exactly
// once, none is skipped, and the members carry on without being restarted.
describe('e2e: host killed and restarted mid-round', () => {
  let c: TestCluster | undefined;
  afterAll(async () => {
    await c?.stop();
  });

  it('resumes from its checkpoint and finishes with no round lost or repeated', async () => {
    c = await startTestCluster(leafManifest({ stop: { rounds: 4 } }), (name) =>
      name.startsWith('c') ? ['--approve-datasets', '--compute', 'synthetic', '--synthetic-train-ms', '1500'] : ['--approve-datasets', '--compute', 'synthetic'],
    );
    await c.submit();
    await c.waitFor('host', (r) => r.msg === 'round finished' && r.round === 2);
    // Mid round 3: training takes 1.5 s per client.
    await c.kill('host');
    const before = closedRounds(c);
    await c.restart('host');
    await c.waitFor('host', (r) => r.msg === 'host restored from its checkpoint');
    await c.waitFor('host', (r) => r.msg === 'machine finished' && r.role === 'host', 180_000);
    const rounds = closedRounds(c);
    expect(before).toEqual([1, 2]);
    expect(rounds, JSON.stringify(rounds)).toEqual([1, 2, 3, 4]);
    const clientsFinal = ['c0', 'c1', 'c2', 'c3'].map((n) => c!.records(n).find((r) => r.msg === 'machine finished')?.final);
    expect(new Set(clientsFinal).size, JSON.stringify(clientsFinal)).toBe(1);
    expect(clientsFinal[0]).toBeTruthy();
  }, 300_000);
});
