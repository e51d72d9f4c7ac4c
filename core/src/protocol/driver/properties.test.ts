import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runInMemory, type DriverResult } from './inMemoryDriver.js';
import { treeManifest, type Shape } from '../test/fixtures.js';

// Property-based tests of whole jobs over the in-memory driver: random trees (depth 1-4,
// fan-out 1-6, 1-5 workers) under random delivery order, duplication, loss and delay.

/** A random tree shape of the given depth (1 = a single leaf cluster). */
const shapeArb = (depth: number): fc.Arbitrary<Shape> =>
  depth <= 1 ? fc.integer({ min: 1, max: 6 }) : fc.array(shapeArb(depth - 1), { minLength: 1, maxLength: depth >= 4 ? 2 : depth === 3 ? 3 : 6 });

const treeArb = fc.integer({ min: 1, max: 4 }).chain((d) => shapeArb(d));

const networkArb = fc.record({
  minDelayMs: fc.integer({ min: 0, max: 20 }),
  maxDelayMs: fc.integer({ min: 20, max: 600 }),
  loss: fc.double({ min: 0, max: 0.2, noNaN: true }),
  duplicate: fc.double({ min: 0, max: 0.3, noNaN: true }),
});

/** Every status trace passes 0 → 1 → 2 in order, training as 3 then 4, and ends at 5. */
function checkTraces(r: DriverResult): void {
  for (const [key, trace] of r.traces) {
    const member = key.split('/')[0]!;
    if (r.killed.has(member)) continue;
    expect(trace[0], `${key} starts assigned`).toBe(0);
    expect(trace.at(-1), `${key} ends finished: ${trace.join(',')}`).toBe(5);
    expect(trace.slice(0, 3), `${key} ACKs its sheet, then its dataset, before anything else: ${trace.join(',')}`).toEqual([0, 1, 2]);
    for (let i = 1; i < trace.length; i++) {
      const [a, b] = [trace[i - 1]!, trace[i]!];
      if (b === 4) expect(a, `${key} is busy before it submits: ${trace.join(',')}`).toBe(3);
      if (b === 3) expect(a >= 2, `${key} trains only after the dataset ACK: ${trace.join(',')}`).toBe(true);
      if (b === 2 && a !== 1) expect.fail(`${key} skipped the job-sheet ACK: ${trace.join(',')}`);
    }
  }
}

function checkSameFinal(r: DriverResult): void {
  expect(r.rootFinal, 'root finished').not.toBeNull();
  for (const [key, hash] of r.finals) {
    if (r.killed.has(key.split('/')[0]!)) continue;
    expect(hash, `${key} has the root's final parameters`).toBe(r.rootFinal);
  }
}

describe('protocol properties (in-memory driver)', () => {
  it('every job finishes with the same final parameters at every member, no stage skipped, rounds never mixed', () => {
    fc.assert(
      fc.property(treeArb, fc.integer({ min: 1, max: 5 }), networkArb, fc.integer({ min: 1, max: 3 }), fc.integer(), fc.boolean(), (shape, workers, network, rounds, seed, blindValidator) => {
        // A blind validator lets stale messages through, so the machines' own checks are exercised too.
        const r = runInMemory({ manifest: treeManifest(shape, { workers, rounds }), seed, network, maxTimeMs: 4 * 3600_000, blindValidator });
        expect(r.violations, JSON.stringify(shape)).toEqual([]);
        expect(r.stopReason, JSON.stringify(shape)).toMatch(/^rounds/);
        checkSameFinal(r);
        checkTraces(r);
      }),
      { seed: 20251122, numRuns: 60 },
    );
  });
});

describe('protocol properties under faults', () => {
  it('with a minority of lying workers, majority_2_3 always picks the honest aggregate', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 }).chain((d) => shapeArb(d)),
        fc.integer({ min: 1, max: 5 }),
        fc.integer(),
        fc.integer({ min: 0, max: 1000 }),
        (shape, workers, seed, pick) => {
          const manifest = treeManifest(shape, { workers, rounds: 3 });
          const honest = runInMemory({ manifest, seed });
          // Liars stay below a third of each job's workers: the most majority_2_3 can outvote.
          const liars: string[] = [];
          const maxLiars = workers - Math.ceil((2 * workers) / 3);
          for (const node of honest.tree.jobs.values()) {
            for (let i = 0; i < maxLiars; i++) liars.push(node.workers[(pick + i) % workers]!);
          }
          const r = runInMemory({ manifest, seed, liars });
          expect(r.violations).toEqual([]);
          const picked = r.metrics.filter((m) => m.name === 'round').map((m) => String(m.values.aggregate));
          for (const h of picked) expect(r.lies.has(h), `a lie won in ${JSON.stringify(shape)} with liars ${liars.join(',')}`).toBe(false);
          expect(r.rootFinal, 'the final model is the honest one').toBe(honest.rootFinal);
          checkSameFinal(r);
          const faulted = r.metrics.filter((m) => m.name === 'workerFault').map((m) => String(m.values.worker));
          for (const w of faulted) expect(liars, `honest worker ${w} was faulted`).toContain(w);
          if (liars.length > 0) {
            const excluded = r.metrics.filter((m) => m.name === 'workerExcluded').map((m) => m.values.worker);
            expect(new Set(excluded), 'liars are excluded after repeated faults').toEqual(new Set(liars));
          }
        },
      ),
      { seed: 7, numRuns: 25 },
    );
  });

  it('a lying minority that majority_2_3 cannot outvote never wins: the job stops with a clear reason instead', () => {
    const manifest = treeManifest(3, { workers: 5, rounds: 3 });
    const r = runInMemory({ manifest, seed: 5, liars: ['wr-0', 'wr-1'] });
    const picked = r.metrics.filter((m) => m.name === 'round').map((m) => String(m.values.aggregate));
    for (const h of picked) expect(r.lies.has(h)).toBe(false);
    expect(r.stopReason).toMatch(/^failed: consensus failed in round 1: majority_2_3/);
    checkSameFinal(r);
  });

  it("killing up to the quorum's slack of clients in a round still completes it", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2 }).chain((d) => shapeArb(d)),
        fc.double({ min: 0.3, max: 1, noNaN: true }),
        fc.integer(),
        fc.integer({ min: 0, max: 3_000 }),
        fc.integer({ min: 0, max: 10_000 }),
        (shape, quorum, seed, killAt, pick) => {
          const manifest = treeManifest(shape, { workers: 3, rounds: 3, timing: { quorum } });
          const tree = runInMemory({ manifest, seed, maxTimeMs: 1 }).tree;
          const kills: { member: string; at: number }[] = [];
          for (const leaf of tree.leaves) {
            const clients = tree.jobs.get(leaf)!.clients.map((c) => c.id);
            const slack = clients.length - Math.max(1, Math.ceil(quorum * clients.length - 1e-9));
            for (let i = 0; i < slack; i++) kills.push({ member: clients[(pick + i) % clients.length]!, at: killAt });
          }
          const r = runInMemory({ manifest, seed, kills });
          expect(r.violations).toEqual([]);
          expect(r.stopReason, `kills ${JSON.stringify(kills)}`).toMatch(/^rounds: 3/);
          checkSameFinal(r);
          checkTraces(r);
        },
      ),
      { seed: 11, numRuns: 30 },
    );
  });

  it('a host that crashes and restarts from its checkpoint resumes its round', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 60_000 }), fc.integer({ min: 100, max: 8_000 }), fc.constantFrom('J', 'J#0', 'J#1'), (at, downMs, job) => {
        const manifest = treeManifest([3, 3], { workers: 3, rounds: 4 });
        const plain = runInMemory({ manifest, seed: 3 });
        const r = runInMemory({ manifest, seed: 3, hostCrashes: [{ job, at, downMs }], maxTimeMs: 3600_000 });
        expect(r.violations).toEqual([]);
        expect(r.stopReason).toMatch(/^rounds: 4/);
        checkSameFinal(r);
        // A short outage loses nobody (members are marked offline only after 3 silent heartbeats),
        // so every client trains in every round either way and the result cannot depend on the crash.
        if (downMs <= 1500) expect(r.rootFinal).toBe(plain.rootFinal);
      }),
      { seed: 13, numRuns: 20 },
    );
  });
});
