import { describe, expect, it } from 'vitest';
import { RdpAccountant } from '../dp/rdp.js';
import { checkpointHost } from '../machines/hostCheckpoint.js';
import { createHostState } from '../machines/hostState.js';
import { buildJobTree } from '../jobTree.js';
import { treeManifest } from '../test/fixtures.js';
import { runInMemory } from './inMemoryDriver.js';

// §6.14 end to end in the in-memory driver: DP clusters' workers derive one noise seed per
// round from the sealed noise key (so they agree by hash), the root reports ε after every
// round, and a budget ends the job before a round would pass it.

const dp = (budget?: number) => ({ privacy: { dp: { clip: 1, noiseMultiplier: 1.1, delta: 1e-5, ...(budget === undefined ? {} : { budget }) } } });

describe('DP jobs (§6.14)', () => {
  it('a 2-level DP job: every leaf worker adds the same noise per round, seeds differ by round and cluster, ε rises per round', () => {
    const r = runInMemory({ manifest: treeManifest([4, 4], { rounds: 4, timing: { sampleFraction: 0.5 }, extra: dp() }), seed: 3, network: { loss: 0.05 } });
    expect(r.violations).toEqual([]);
    expect(r.stopReason).toBe('rounds: 4 of 4 done');
    for (const [k, h] of r.finals) expect(h, k).toBe(r.rootFinal);
    // Only the leaf jobs add noise (the root samples half of them per round), each worker of a
    // (job, round) with the same seed, and no two (job, round)s share one.
    const byRound = new Map<string, Set<string>>();
    for (const n of r.noiseSeeds) (byRound.get(`${n.job}|${n.round}`) ?? byRound.set(`${n.job}|${n.round}`, new Set()).get(`${n.job}|${n.round}`)!).add(n.seed);
    expect(r.noiseSeeds.every((n) => n.job === 'J#0' || n.job === 'J#1')).toBe(true);
    const leafRounds = r.metrics.filter((m) => m.name === 'round' && m.job !== 'J');
    expect(leafRounds.length).toBeGreaterThanOrEqual(4);
    expect(byRound.size).toBe(leafRounds.length);
    for (const [k, seeds] of byRound) expect(seeds.size, k).toBe(1);
    expect(new Set([...byRound.values()].map((s) => [...s][0])).size).toBe(byRound.size);
    // Each leaf's round metric carries ε for its own rounds: at sampling rate 2/4, σ = 1.1.
    for (const job of ['J#0', 'J#1']) {
      leafRounds
        .filter((m) => m.job === job)
        .forEach((m, i) => {
          const expected = new RdpAccountant().compose(0.5, 1.1, i + 1).epsilon(1e-5);
          expect(m.values.epsilon as number, `${job} round ${i + 1}`).toBeCloseTo(expected, 9);
          expect(m.values.delta).toBe(1e-5);
        });
    }
    expect(r.metrics.filter((m) => m.name === 'round' && m.job === 'J').every((m) => m.values.epsilon === undefined)).toBe(true);
  });

  it('a 1-level job stops before the round that would spend more than its budget, and says so', () => {
    const perRound = (k: number) => new RdpAccountant().compose(1, 1.1, k).epsilon(1e-5);
    // A budget between the 3rd and the 4th round's ε: three rounds run, the fourth does not.
    const budget = (perRound(3) + perRound(4)) / 2;
    const r = runInMemory({ manifest: treeManifest(3, { rounds: 10, extra: dp(budget) }), seed: 4 });
    expect(r.violations).toEqual([]);
    expect(r.stopReason).toMatch(/^privacy budget: J has spent ε=\d+\.\d{3} \(δ=0\.00001\) over 3 rounds; one more would reach ε=\d+\.\d{3} > budget /);
    expect(r.metrics.filter((m) => m.name === 'round')).toHaveLength(3);
    for (const [k, h] of r.finals) expect(h, k).toBe(r.rootFinal);
    expect(r.rootFinal).not.toBeNull();
  });

  it('a job without privacy adds no noise and reports no ε', () => {
    const r = runInMemory({ manifest: treeManifest(3, { rounds: 2 }), seed: 5 });
    expect(r.stopReason).toBe('rounds: 2 of 2 done');
    expect(r.noiseSeeds).toEqual([]);
    expect(r.metrics.filter((m) => m.name === 'round').every((m) => m.values.epsilon === undefined)).toBe(true);
  });

  it('a DP host checkpoint keeps its keys and account; a plain one has none', () => {
    const tree = buildJobTree(treeManifest(3, { extra: dp() }));
    const s = createHostState(tree, 'J', 0);
    s.dp!.hostSecret = 'a'.repeat(64);
    s.dp!.hostPublic = 'b'.repeat(64);
    s.dp!.noiseKey = 'c'.repeat(64);
    s.dp!.rates.push(0.5, 0.25);
    expect(checkpointHost(s).dp).toEqual({ hostSecret: 'a'.repeat(64), hostPublic: 'b'.repeat(64), noiseKey: 'c'.repeat(64), rates: [0.5, 0.25], rate: 1 });
    expect(checkpointHost(createHostState(buildJobTree(treeManifest(3)), 'J', 0)).dp).toBeUndefined();
  });
});
