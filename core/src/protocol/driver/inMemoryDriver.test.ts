import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { parseManifest } from '../manifest.js';
import { runInMemory } from './inMemoryDriver.js';
import { treeManifest } from '../test/fixtures.js';

describe('in-memory driver: whole jobs', () => {
  it('runs a 1-level job to the round limit', () => {
    const r = runInMemory({ manifest: treeManifest(3, { rounds: 3 }), seed: 1 });
    expect(r.violations).toEqual([]);
    expect(r.stopReason).toMatch(/^rounds/);
    expect(r.rootFinal).not.toBeNull();
    for (const [k, h] of r.finals) expect(h, k).toBe(r.rootFinal);
  });

  it('runs a 2-level job with a distributor', () => {
    const r = runInMemory({ manifest: treeManifest([3, 3], { rounds: 5, distributor: true }), seed: 2 });
    expect(r.violations).toEqual([]);
    expect(r.stopReason).toMatch(/^rounds: 5/);
    for (const [k, h] of r.finals) expect(h, k).toBe(r.rootFinal);
  });

  it('ends a 3-level job whose distributor cannot prepare the dataset, over a lossy network, with the reason everywhere', () => {
    const r = runInMemory({ manifest: treeManifest([[2, 2], [3]], { rounds: 2, distributor: true }), seed: 5, network: { loss: 0.2 }, datasetUnavailable: 'no such dir' });
    expect(r.violations).toEqual([]);
    expect([r.stopReason, r.rootFinal]).toEqual(['dataset unavailable: no such dir', null]);
    // Every host reached stage 3 and every client and worker finished (status 5), with no model.
    for (const j of r.tree.jobs.values()) expect(r.finals.has(`${j.host}/host:${j.name}`), j.name).toBe(true);
    expect(r.traces.size).toBe([...r.tree.jobs.values()].reduce((n, j) => n + j.workers.length + (j.leaf ? j.clients.length : 0), 0));
    for (const [k, t] of r.traces) expect(t.at(-1), k).toBe(5);
    for (const [k, h] of r.finals) expect(h, k).toBeNull();
    expect(r.metrics.filter((m) => m.name === 'round')).toEqual([]);
    // 3 attempts a heartbeat apart, then at most the finishing linger (§6.9).
    expect(r.endedAt).toBeLessThan(30 * r.tree.jobs.get('J')!.timing.heartbeatSeconds * 1000);
  });

  it('runs a 3-level job', () => {
    const r = runInMemory({ manifest: treeManifest([[2, 2], [3]], { rounds: 2 }), seed: 3 });
    expect(r.violations).toEqual([]);
    expect(r.stopReason).toMatch(/^rounds: 2/);
    for (const [k, h] of r.finals) expect(h, k).toBe(r.rootFinal);
  });
});

describe('in-memory driver: the shipped examples', () => {
  for (const [file, rounds] of [['mnist-2level.yaml', 5], ['mnist-3level.yaml', 10], ['single-cluster.yaml', 3]] as const) {
    it(`${file} runs to its stop condition with one final model everywhere`, () => {
      const m = parseManifest(readFileSync(new URL(`../../../../examples/jobs/${file}`, import.meta.url), 'utf8'), file);
      const r = runInMemory({ manifest: m, seed: 42, network: { loss: 0.05, duplicate: 0.05 } });
      expect(r.violations, file).toEqual([]);
      expect(r.stopReason, file).toBe(`rounds: ${rounds} of ${rounds} done`);
      expect(r.metrics.filter((x) => x.name === 'round' && x.job === r.tree.root)).toHaveLength(rounds);
      for (const [k, h] of r.finals) expect(h, `${file}: ${k}`).toBe(r.rootFinal);
    });
  }

  it('stops early on target accuracy, evaluated and weighted up the tree', () => {
    const r = runInMemory({ manifest: treeManifest([2, 3], { rounds: 50, extra: { stop: { rounds: 50, targetAccuracy: 0.5 } } }), seed: 9 });
    expect(r.stopReason).toMatch(/^targetAccuracy/);
    const rootRounds = r.metrics.filter((x) => x.name === 'round' && x.job === 'J');
    expect(rootRounds.length).toBeLessThan(50);
    expect(Number(rootRounds.at(-1)!.values.accuracy)).toBeGreaterThanOrEqual(0.5);
  });

  it('runs with clients refusing consent, without them', () => {
    const r = runInMemory({ manifest: treeManifest([2, 2], { rounds: 2 }), seed: 4, refusals: ['c0', 'c3'] });
    expect(r.stopReason).toMatch(/^rounds/);
    expect(r.metrics.filter((x) => x.name === 'round' && x.job === 'J#0').every((x) => x.values.clients === 1)).toBe(true);
  });
});

describe('in-memory driver: scale', () => {
  it('runs 2,000 clients under two sub-jobs (hosts do O(1) work per message)', () => {
    const r = runInMemory({ manifest: treeManifest([1000, 1000], { rounds: 2, timing: { heartbeatSeconds: 5, roundDeadlineSeconds: 60, sampleFraction: 0.5 } }), seed: 1 });
    expect(r.stopReason).toBe('rounds: 2 of 2 done');
    // sampleFraction 0.5 applies at every level: one of the two sub-jobs trains per root round.
    expect(r.metrics.filter((m) => m.name === 'round' && m.job !== 'J').map((m) => m.values.clients)).toEqual([500, 500]);
    for (const [k, h] of r.finals) if (h !== r.rootFinal) expect.fail(`${k} ended with ${h}, not the root's ${r.rootFinal}`);
  });
});
