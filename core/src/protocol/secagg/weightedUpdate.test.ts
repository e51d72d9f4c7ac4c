import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { derivedRandomness, runLocalRound } from './localRound.js';
import { ringAdd } from './ring.js';
import { decodeWeightedSum, encodeWeightedUpdate, weightedScale, type WeightedBounds } from './weightedUpdate.js';

// FedAvg through the ring: the weighted average of what survives equals the float one to within
// the rounding the scale allows, here far below anything that moves accuracy.

describe('weighted updates in the ring', () => {
  it('decode to the float weighted average within n·(max|x| + 1) / (2·scale·Σw) per coordinate', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ x: fc.array(fc.double({ min: -4, max: 4, noNaN: true }), { minLength: 3, maxLength: 3 }), w: fc.integer({ min: 1, max: 600 }) }), { minLength: 1, maxLength: 40 }),
        (clients) => {
          const b: WeightedBounds = { clients: 1000, maxWeight: 600, maxAbs: 4 };
          const acc = new Uint32Array(4);
          for (const c of clients) ringAdd(acc, encodeWeightedUpdate(c.x, c.w, b));
          const { average, totalWeight } = decodeWeightedSum(acc, b);
          const W = clients.reduce((s, c) => s + c.w, 0);
          expect(totalWeight).toBeCloseTo(W, 6);
          const bound = (clients.length * 5) / (2 * weightedScale(b) * W) + 1e-6;
          for (let j = 0; j < 3; j++) {
            const want = clients.reduce((s, c) => s + c.w * c.x[j]!, 0) / W;
            expect(Math.abs(average[j]! - want), `coordinate ${j}`).toBeLessThanOrEqual(bound);
          }
        },
      ),
      { seed: 15 },
    );
  });

  it('goes through a secure round with dropouts and gives the survivors\' weighted average', async () => {
    const b: WeightedBounds = { clients: 8, maxWeight: 100, maxAbs: 1 };
    const updates = Array.from({ length: 8 }, (_, i) => ({ x: [Math.sin(i), Math.cos(i), i / 10], w: 10 + i * 7 }));
    const members = updates.map((_, i) => `c${i}`);
    const inputs = new Map(members.map((m, i) => [m, encodeWeightedUpdate(updates[i]!.x, updates[i]!.w, b)]));
    const res = await runLocalRound({ context: 'w|1', neighbours: 4, threshold: 2, graphSeed: 2, length: 4 }, inputs, { randomness: (m) => derivedRandomness('w', m), drops: new Map([['c3', 'beforeMask']]) });
    if ('error' in res.outcome) throw res.outcome.error;
    const { average } = decodeWeightedSum(res.outcome.sum, b);
    const alive = updates.filter((_, i) => i !== 3);
    const W = alive.reduce((s, c) => s + c.w, 0);
    for (let j = 0; j < 3; j++) expect(average[j]).toBeCloseTo(alive.reduce((s, c) => s + c.w * c.x[j]!, 0) / W, 6);
  });

  it('composes through a 2-level tree: each leaf cluster\'s unmasked ring sum is one input of the root\'s secure round', async () => {
    // the fixed point is set for every client of the tree, so the root's sum of leaf sums stays in the ring
    const b: WeightedBounds = { clients: 12, maxWeight: 50, maxAbs: 2 };
    const leaves = [0, 1, 2].map((l) => Array.from({ length: 4 }, (_, i) => ({ id: `l${l}c${i}`, x: [Math.sin(l * 4 + i), (l - i) / 3], w: 5 + l * 10 + i })));
    const leafSums = new Map<string, Uint32Array>();
    for (const [l, clients] of leaves.entries()) {
      const inputs = new Map(clients.map((c) => [c.id, encodeWeightedUpdate(c.x, c.w, b)]));
      const res = await runLocalRound({ context: `J#${l}|1`, neighbours: 3, threshold: 2, graphSeed: l, length: 3 }, inputs, { randomness: (m) => derivedRandomness('tree', m) });
      if ('error' in res.outcome) throw res.outcome.error;
      leafSums.set(`J#${l}`, res.outcome.sum);
    }
    const root = await runLocalRound({ context: 'J|1', neighbours: 2, threshold: 2, graphSeed: 9, length: 3 }, leafSums, { randomness: (m) => derivedRandomness('tree', m) });
    if ('error' in root.outcome) throw root.outcome.error;
    const { average, totalWeight } = decodeWeightedSum(root.outcome.sum, b);
    const all = leaves.flat();
    const W = all.reduce((s, c) => s + c.w, 0);
    expect(totalWeight).toBe(W);
    for (let j = 0; j < 2; j++) expect(average[j], `coordinate ${j}`).toBeCloseTo(all.reduce((s, c) => s + c.w * c.x[j]!, 0) / W, 5);
  });

  it('refuses weights and values outside the round\'s bounds, and a sum with no weight', () => {
    const b: WeightedBounds = { clients: 10, maxWeight: 100, maxAbs: 1 };
    expect(() => encodeWeightedUpdate([0.5], 101, b)).toThrow(/weight 101 is outside/);
    expect(() => encodeWeightedUpdate([1.5], 10, b)).toThrow(/value 1.5 at index 0/);
    expect(() => decodeWeightedSum(new Uint32Array(2), b)).toThrow(/total weight is 0/);
  });
});
