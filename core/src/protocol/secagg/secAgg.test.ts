import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { derivedRandomness, runLocalRound, type DropPoint } from './localRound.js';
import { neighbourGraph, defaultNeighbours } from './neighbours.js';
import { advertiseKeys, maskInput, revealShares, shareKeys } from './secAggClient.js';
import { sumMasked, unmaskSum } from './secAggServer.js';
import { SecAggError } from './secAggError.js';
import { checkRound, thresholdFor, type SecAggRound } from './secAggRound.js';
import { openShares, splitSecret, reconstructSecret } from './shares.js';
import { dequantise, quantisationScale, quantise, ringAdd } from './ring.js';

// The SecAgg+ round as a whole: the sum is exact under any dropout pattern the threshold
// tolerates, the round fails with BELOW_THRESHOLD (never a wrong sum) under any other, and
// hostile shares or reveals are set aside or stop the round, never change the sum.

const ids = (n: number): string[] => Array.from({ length: n }, (_, i) => `m${String(i).padStart(3, '0')}`);

function ringSumOf(vs: Uint32Array[], length: number): Uint32Array {
  const acc = new Uint32Array(length);
  for (const v of vs) ringAdd(acc, v);
  return acc;
}

/** Whether the round can unmask: every member whose secret is needed has >= t revealing neighbours. */
function feasible(graph: Map<string, string[]>, t: number, drops: Map<string, DropPoint>, members: string[]): boolean {
  const u2 = new Set(members.filter((m) => drops.get(m) !== 'beforeShare'));
  const u3 = new Set([...u2].filter((m) => drops.get(m) !== 'beforeMask'));
  const revealers = new Set([...u3].filter((m) => drops.get(m) !== 'beforeReveal'));
  for (const v of u2) {
    const nbrs = graph.get(v)!;
    if (!u3.has(v) && !nbrs.some((u) => u3.has(u))) continue;
    if (nbrs.filter((u) => revealers.has(u)).length < t) return false;
  }
  return true;
}

const roundArb = fc
  .record({ n: fc.integer({ min: 3, max: 24 }), kFrac: fc.double({ min: 0, max: 1, noNaN: true }), tFrac: fc.double({ min: 0, max: 1, noNaN: true }), length: fc.integer({ min: 1, max: 9 }), seed: fc.integer() })
  .map(({ n, kFrac, tFrac, length, seed }) => {
    const k = Math.max(2, Math.round(kFrac * (n - 1)));
    const members = ids(n);
    const graph = neighbourGraph(members, k, seed);
    const fewest = Math.min(...[...graph.values()].map((v) => v.length));
    const threshold = Math.max(2, Math.min(fewest, Math.round(2 + tFrac * (fewest - 2))));
    const round: SecAggRound = { context: `job|${seed}`, neighbours: k, threshold, graphSeed: seed, length };
    return { round, members, graph };
  });

const dropArb = fc.constantFrom<DropPoint | 'stay'>('stay', 'stay', 'stay', 'beforeShare', 'beforeMask', 'beforeReveal');

describe('SecAgg+ round', () => {
  it('sums exactly under every dropout pattern the threshold tolerates, and fails with BELOW_THRESHOLD otherwise', async () => {
    await fc.assert(
      fc.asyncProperty(
        roundArb.chain((r) => fc.record({ r: fc.constant(r), drops: fc.array(dropArb, { minLength: r.members.length, maxLength: r.members.length }), values: fc.array(fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: r.round.length, maxLength: r.round.length }), { minLength: r.members.length, maxLength: r.members.length }) })),
        async ({ r, drops, values }) => {
          const inputs = new Map(r.members.map((m, i) => [m, Uint32Array.from(values[i]!)]));
          const dropMap = new Map<string, DropPoint>();
          r.members.forEach((m, i) => drops[i] !== 'stay' && dropMap.set(m, drops[i] as DropPoint));
          const res = await runLocalRound(r.round, inputs, { randomness: (m) => derivedRandomness(r.round.context, m), drops: dropMap });
          const ok = feasible(r.graph, r.round.threshold, dropMap, r.members);
          if ('error' in res.outcome) {
            expect(ok, `round failed though it could unmask: ${res.outcome.error.message}`).toBe(false);
            expect(res.outcome.error).toBeInstanceOf(SecAggError);
            expect((res.outcome.error as SecAggError).failure).toBe('BELOW_THRESHOLD');
          } else {
            expect(ok, 'round unmasked though a needed secret had fewer than t shares').toBe(true);
            const expected = ringSumOf(res.u3.map((m) => inputs.get(m)!), r.round.length);
            expect([...res.outcome.sum]).toEqual([...expected]);
            expect(res.outcome.rejected).toEqual([]);
          }
        },
      ),
      { numRuns: 40, seed: 17 },
    );
  });

  it('with 30% of 60 clients dropping after masking, the round closes and the sum is exact', async () => {
    const members = ids(60);
    const k = defaultNeighbours(60);
    const round: SecAggRound = { context: 'j|1', neighbours: k, threshold: thresholdFor(k, 0.5), graphSeed: 7, length: 16 };
    const inputs = new Map(members.map((m, i) => [m, Uint32Array.from({ length: 16 }, (_, j) => (i * 1000 + j) >>> 0)]));
    const drops = new Map<string, DropPoint>(members.filter((_, i) => i % 10 < 3).map((m) => [m, 'beforeReveal']));
    const res = await runLocalRound(round, inputs, { randomness: (m) => derivedRandomness('x', m), drops });
    if ('error' in res.outcome) throw res.outcome.error;
    expect(res.u3.length).toBe(60);
    expect(res.reveals.some((r) => drops.has(r.from))).toBe(false);
    expect([...res.outcome.sum]).toEqual([...ringSumOf([...inputs.values()], 16)]);
  });

  it('a dropout beyond the threshold ends the round with BELOW_THRESHOLD, naming the member', async () => {
    const members = ids(6);
    const round: SecAggRound = { context: 'j|2', neighbours: 5, threshold: 4, graphSeed: 1, length: 4 };
    const inputs = new Map(members.map((m) => [m, new Uint32Array(4).fill(1)]));
    const drops = new Map<string, DropPoint>([['m000', 'beforeMask'], ['m001', 'beforeMask'], ['m002', 'beforeReveal']]);
    const res = await runLocalRound(round, inputs, { randomness: (m) => derivedRandomness('y', m), drops });
    expect('error' in res.outcome).toBe(true);
    const err = (res.outcome as { error: SecAggError }).error;
    expect(err.failure).toBe('BELOW_THRESHOLD');
    // m000 dropped; of its 5 neighbours only m003, m004 and m005 still answer
    expect(err.message).toBe('the mask key of m000, who dropped out: 3 valid share(s), the threshold is 4');
  });

  it('a client whose sealed shares are corrupted is caught by its neighbours and cannot change the sum', async () => {
    const members = ids(8);
    const round: SecAggRound = { context: 'j|3', neighbours: 7, threshold: 3, graphSeed: 3, length: 5 };
    const inputs = new Map(members.map((m, i) => [m, Uint32Array.from({ length: 5 }, () => i + 1)]));
    const res = await runLocalRound(round, inputs, {
      randomness: (m) => derivedRandomness('z', m),
      // m004 flips a byte in the bundle for m000 and m001
      tamperShares: (b) => (b.from === 'm004' && (b.to === 'm000' || b.to === 'm001') ? { ...b, sealed: flip(b.sealed, 5) } : b),
    });
    if ('error' in res.outcome) throw res.outcome.error;
    expect([...res.outcome.sum]).toEqual([...ringSumOf([...inputs.values()], 5)]);
    // the two recipients set the bundle aside; they reveal nothing about m004
    expect(res.reveals.filter((r) => r.about === 'm004').map((r) => r.from).sort()).toEqual(['m002', 'm003', 'm005', 'm006', 'm007']);
  });

  it('wrong reveals (corrupt, of the wrong kind, repeated, from a non-survivor) are set aside or stop the round, never change the sum', async () => {
    const members = ids(7);
    const round: SecAggRound = { context: 'j|4', neighbours: 6, threshold: 3, graphSeed: 9, length: 6 };
    const inputs = new Map(members.map((m, i) => [m, Uint32Array.from({ length: 6 }, (_, j) => i * 7 + j)]));
    const expected = [...ringSumOf([...inputs.values()], 6)];
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 32 }), fc.integer({ min: 1, max: 255 }), async (liar, pos, xor) => {
        const res = await runLocalRound(round, inputs, {
          randomness: (m) => derivedRandomness('w', m),
          tamperReveal: (r) => (r.from === members[liar] ? { ...r, share: flip(r.share, pos, xor) } : r),
        });
        if ('error' in res.outcome) {
          expect((res.outcome.error as SecAggError).failure).toBe('BAD_SHARE');
        } else {
          expect([...res.outcome.sum]).toEqual(expected);
        }
      }),
      { numRuns: 20, seed: 4 },
    );
    // structurally wrong reveals are listed, not used
    const res = await runLocalRound(round, inputs, {
      randomness: (m) => derivedRandomness('w', m),
      tamperReveal: (r) => (r.from === 'm001' ? { ...r, kind: 'key' } : r),
    });
    if ('error' in res.outcome) throw res.outcome.error;
    expect([...res.outcome.sum]).toEqual(expected);
    expect(res.outcome.rejected.length).toBe(6);
    expect(res.outcome.rejected[0]!.message).toMatch(/a 'key' share where only 'self' may be revealed/);
  });

  it('shares sealed for one round, sender or receiver do not open for another', () => {
    const a = advertiseKeys('a', derivedRandomness('s', 'a'));
    const b = advertiseKeys('b', derivedRandomness('s', 'b'));
    const c = advertiseKeys('c', derivedRandomness('s', 'c'));
    return shareKeys({ context: 'r1', neighbours: 2, threshold: 2, graphSeed: 0, length: 1 }, a.secrets, [a.advert, b.advert, c.advert]).then((sealed) => {
      const toB = sealed.find((s) => s.to === 'b')!;
      expect(() => openShares('r1', 'a', 'b', b.secrets.share.secretKey, a.advert.sharePublic, toB.sealed)).not.toThrow();
      expect(() => openShares('r2', 'a', 'b', b.secrets.share.secretKey, a.advert.sharePublic, toB.sealed)).toThrow(/do not decrypt for this round/);
      expect(() => openShares('r1', 'c', 'b', b.secrets.share.secretKey, c.advert.sharePublic, toB.sealed)).toThrow(SecAggError);
      expect(() => openShares('r1', 'a', 'c', c.secrets.share.secretKey, a.advert.sharePublic, toB.sealed)).toThrow(SecAggError);
    });
  });

  it('rejects a masked input of the wrong length, inconsistent member sets and a client outside the round', async () => {
    const round: SecAggRound = { context: 'j|5', neighbours: 2, threshold: 2, graphSeed: 0, length: 3 };
    expect(() => sumMasked(round, new Map([['a', new Uint32Array(3)], ['b', new Uint32Array(4)]]))).toThrow(/b's masked input has 4 elements, the round 3/);
    const parties = ['a', 'b', 'c'].map((m) => advertiseKeys(m, derivedRandomness('v', m)));
    const adverts = parties.map((p) => p.advert);
    const [a] = parties;
    expect(() => maskInput(round, a!.secrets, adverts, ['a', 'b', 'c'], new Uint32Array(2))).toThrow(/the input has 2 elements, the round 3/);
    expect(() => maskInput(round, a!.secrets, adverts, ['b', 'c'], new Uint32Array(3))).toThrow(/a is not among the members whose shares were delivered/);
    expect(() => revealShares(round, a!.secrets, adverts, ['a', 'b'], ['a', 'c'], [])).toThrow(/c is listed as masked but not as having shared/);
    await expect(unmaskSum(round, adverts, ['a', 'b', 'x'], ['a'], new Uint32Array(3), [])).rejects.toThrow(/x shared keys but advertised none/);
    await expect(unmaskSum(round, adverts, ['a', 'b', 'c'], ['a', 'b', 'c'], new Uint32Array(2), [])).rejects.toThrow(/masked sum has 2 elements/);
    const stranger = advertiseKeys('z', derivedRandomness('v', 'z'));
    await expect(shareKeys(round, stranger.secrets, adverts)).rejects.toThrow(/z is not among the members that advertised keys/);
  });

  it('rejects rounds that cannot work', () => {
    expect(() => checkRound({ context: 'x', neighbours: 2, threshold: 2, graphSeed: 0, length: 1 }, ['a', 'b'])).toThrow(/at least 3 members/);
    expect(() => checkRound({ context: 'x', neighbours: 2, threshold: 3, graphSeed: 0, length: 1 }, ids(10))).toThrow(/threshold must be an integer from 2 to 2/);
    expect(() => checkRound({ context: 'x', neighbours: 4, threshold: 1, graphSeed: 0, length: 1 }, ids(10))).toThrow(SecAggError);
  });
});

describe('neighbour graph', () => {
  it('is symmetric, has min(k rounded up to even, n - 1) neighbours each, and follows the seed', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 80 }), fc.integer({ min: 1, max: 90 }), fc.integer(), (n, k, seed) => {
        const members = ids(n);
        const g = neighbourGraph(members, k, seed);
        const want = Math.min(2 * Math.ceil(k / 2), n - 1);
        for (const [m, nbrs] of g) {
          expect(nbrs.length, `${m} of ${n} with k=${k}`).toBe(want);
          expect(nbrs.includes(m), `${m} is not its own neighbour`).toBe(false);
          for (const v of nbrs) expect(g.get(v)!.includes(m), `${m}-${v} both ways`).toBe(true);
        }
        expect(neighbourGraph([...members].reverse(), k, seed)).toEqual(g);
      }),
      { seed: 5 },
    );
  });

  it('grows as O(log n): 30 neighbours at 1,000 members, 42 at 16,384', () => {
    expect([10, 100, 1000, 16384].map(defaultNeighbours)).toEqual([9, 20, 30, 42]);
  });
});

describe('fixed point in the ring', () => {
  it('a sum of quantised values decodes to the real sum within n / (2 * scale)', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: 4, maxLength: 4 }), { minLength: 1, maxLength: 50 }), (vs) => {
        const scale = quantisationScale(3 * vs.length);
        const acc = new Uint32Array(4);
        for (const v of vs) ringAdd(acc, quantise(v, scale, 3));
        const got = dequantise(acc, scale);
        for (let j = 0; j < 4; j++) {
          const want = vs.reduce((s, v) => s + v[j]!, 0);
          expect(Math.abs(got[j]! - want), `coordinate ${j}`).toBeLessThanOrEqual(vs.length / (2 * scale) + 1e-12);
        }
      }),
      { seed: 6 },
    );
  });

  it('refuses a value outside the bound or not finite, which would wrap the sum', () => {
    expect(() => quantise([0, 3.5], 1024, 3)).toThrow(/value 3.5 at index 1 is outside/);
    expect(() => quantise([Number.NaN], 1024, 3)).toThrow(/outside/);
    expect(() => quantisationScale(0)).toThrow(/positive finite bound/);
    expect(quantisationScale(1000) * 1000).toBeLessThanOrEqual(0x7fffffff);
    expect(quantisationScale(1000) * 2 * 1000).toBeGreaterThan(0x7fffffff);
  });
});

describe('Shamir shares', () => {
  it('any t shares reconstruct the secret; wrong shares never yield a secret that fails the check', async () => {
    const secret = derivedRandomness('sh', 'x').slice(0, 32);
    const shares = await splitSecret(secret, 6, 3);
    const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
    const check = (s: Uint8Array): boolean => hex(s) === hex(secret);
    expect(hex(await reconstructSecret(shares.slice(2, 5), 3, check, 's'))).toBe(hex(secret));
    const bad = shares.map((s, i) => (i === 0 ? flip(s, 3) : s));
    expect(hex(await reconstructSecret(bad, 3, check, 's'))).toBe(hex(secret));
    await expect(reconstructSecret([bad[0]!, shares[1]!, shares[2]!], 3, check, 's')).rejects.toThrow(/no combination/);
    await expect(reconstructSecret(shares.slice(0, 2), 3, check, 'the seed of m1')).rejects.toThrow(/the seed of m1: 2 valid share\(s\), the threshold is 3/);
  });
});

function flip(bytes: Uint8Array, pos: number, xor = 1): Uint8Array {
  const out = bytes.slice();
  out[pos % out.length]! ^= xor;
  return out;
}
