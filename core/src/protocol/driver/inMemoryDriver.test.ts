import { describe, expect, it } from 'vitest';
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

  it('runs a 3-level job', () => {
    const r = runInMemory({ manifest: treeManifest([[2, 2], [3]], { rounds: 2 }), seed: 3 });
    expect(r.violations).toEqual([]);
    expect(r.stopReason).toMatch(/^rounds: 2/);
    for (const [k, h] of r.finals) expect(h, k).toBe(r.rootFinal);
  });
});
