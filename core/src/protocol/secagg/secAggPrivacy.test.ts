import { describe, expect, it } from 'vitest';
import { agreeKey } from './keys.js';
import { derivedRandomness, runLocalRound, type DropPoint, type LocalRoundResult } from './localRound.js';
import { applyMask } from './prg.js';
import { ringAdd } from './ring.js';
import { SecAggError } from './secAggError.js';
import { maskLabel, maskSign, roundGraph, type SecAggRound } from './secAggRound.js';
import { openShares, reconstructSecret } from './shares.js';

// What a worker, the host and a coalition below the threshold can compute from what they
// receive, computed here as an attacker would, and shown to be uniform noise in the ring (a
// byte histogram's chi-square against uniform, 255 degrees of freedom: 350 is p < 1e-4). Each
// test also runs the same attack with enough knowledge to succeed, so it can fail.

const CHI2_LIMIT = 350;
const L = 4096;

function chi2Bytes(v: Uint32Array): number {
  const bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  const counts = new Float64Array(256);
  for (const b of bytes) counts[b]!++;
  const expected = bytes.length / 256;
  let s = 0;
  for (const c of counts) s += ((c - expected) * (c - expected)) / expected;
  return s;
}

const members = Array.from({ length: 8 }, (_, i) => `c${i}`);
const round: SecAggRound = { context: 'privacy|1', neighbours: 4, threshold: 3, graphSeed: 11, length: L };
// low-entropy inputs, the kind a histogram tells apart from noise at once
const inputs = new Map(members.map((m, i) => [m, Uint32Array.from({ length: L }, (_, j) => (i === 0 ? 0 : (i * 31 + (j % 17)) >>> 0))]));
const graph = roundGraph(round, members);

async function run(drops: Map<string, DropPoint> = new Map()): Promise<LocalRoundResult & { sum: Uint32Array }> {
  const res = await runLocalRound(round, inputs, { randomness: (m) => derivedRandomness('privacy', m), drops });
  if ('error' in res.outcome) throw res.outcome.error;
  return { ...res, sum: res.outcome.sum };
}

/** y_u with the pairwise masks between u and each of `known` (whose mask secrets the attacker holds) removed. */
function strip(res: LocalRoundResult, u: string, known: Iterable<string>, selfSeed?: Uint8Array): Uint32Array {
  const y = res.masked.get(u)!.slice();
  if (selfSeed) applyMask(y, selfSeed, -1);
  const advertOf = new Map(res.adverts.map((a) => [a.member, a]));
  for (const v of known) {
    const seed = agreeKey(res.secrets.get(v)!.mask.secretKey, advertOf.get(u)!.maskPublic, maskLabel(round.context, u, v));
    applyMask(y, seed, maskSign(u, v) === 1 ? -1 : 1);
  }
  return y;
}

describe('what a worker can recover', () => {
  it('sees every masked input, and every sum of some of them, as uniform noise', async () => {
    const res = await run();
    expect(chi2Bytes(inputs.get('c0')!), 'the attack tells a plain input from noise').toBeGreaterThan(CHI2_LIMIT);
    expect(chi2Bytes(inputs.get('c3')!), 'the attack tells a plain input from noise').toBeGreaterThan(CHI2_LIMIT);
    for (const u of members) expect(chi2Bytes(res.masked.get(u)!), `masked input of ${u}`).toBeLessThan(CHI2_LIMIT);
    // a worker may add any subset; only all of U3 together loses the masks
    for (const left of members) {
      const partial = new Uint32Array(L);
      for (const u of members) if (u !== left) ringAdd(partial, res.masked.get(u)!);
      expect(chi2Bytes(partial), `sum of all but ${left}`).toBeLessThan(CHI2_LIMIT);
    }
  });

  it('after unmasking, the secrets revealed (self-mask seeds of survivors, keys of dropouts) leave each survivor masked', async () => {
    const drops = new Map<string, DropPoint>([['c5', 'beforeMask']]);
    const res = await run(drops);
    const advertOf = new Map(res.adverts.map((a) => [a.member, a]));
    const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
    // everything the host can reconstruct from the reveals it received
    const selfSeeds = new Map<string, Uint8Array>();
    for (const u of res.u3) {
      const shares = res.reveals.filter((r) => r.about === u && r.kind === 'self').map((r) => r.share);
      selfSeeds.set(u, await reconstructSecret(shares, round.threshold, (s) => hex(s) === hex(res.secrets.get(u)!.selfSeed), `b of ${u}`));
      const keyShares = res.reveals.filter((r) => r.about === u && r.kind === 'key').map((r) => r.share);
      // no share of a survivor's mask key is ever revealed
      expect(keyShares.length, `key shares about survivor ${u}`).toBe(0);
      await expect(reconstructSecret(keyShares, round.threshold, () => true, `s of ${u}`)).rejects.toThrow(SecAggError);
    }
    for (const u of res.u3) {
      const dropped = graph.get(u)!.filter((v) => !res.u3.includes(v));
      const residual = strip(res, u, dropped, selfSeeds.get(u));
      expect(chi2Bytes(residual), `what is left of ${u}'s input`).toBeLessThan(CHI2_LIMIT);
      expect(Buffer.from(residual.buffer).equals(Buffer.from(inputs.get(u)!.buffer)), `${u}'s input stays hidden`).toBe(false);
      // with every neighbour's key as well (more than the protocol ever reveals) the input comes out: the attack is real
      expect([...strip(res, u, graph.get(u)!, selfSeeds.get(u))]).toEqual([...inputs.get(u)!]);
    }
    expect(advertOf.size).toBe(8);
  });
});

describe('what a coalition below the threshold can recover', () => {
  it('t - 1 neighbours and the host together cannot reconstruct a client secret or unmask its input', async () => {
    const res = await run();
    const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
    const advertOf = new Map(res.adverts.map((a) => [a.member, a]));
    for (const u of members) {
      const nbrs = graph.get(u)!;
      const coalition = nbrs.slice(0, round.threshold - 1);
      // each opens the bundle u sealed to it and pools the shares
      const pairs = coalition.map((c) => {
        const b = res.inboxes.get(c)!.find((x) => x.from === u)!;
        return openShares(round.context, u, c, res.secrets.get(c)!.share.secretKey, advertOf.get(u)!.sharePublic, b.sealed);
      });
      const secrets = res.secrets.get(u)!;
      await expect(reconstructSecret(pairs.map((p) => p.keyShare), round.threshold - 1, (s) => hex(s) === hex(secrets.mask.secretKey), `s of ${u}`), `${u}'s mask key from ${coalition}`).rejects.toThrow(/no combination/);
      await expect(reconstructSecret(pairs.map((p) => p.selfShare), round.threshold - 1, (s) => hex(s) === hex(secrets.selfSeed), `b of ${u}`), `${u}'s seed from ${coalition}`).rejects.toThrow(/no combination/);
      // the host learnt b_u at unmasking; with the coalition's own pairwise masks removed too, u's other neighbours still mask it
      const residual = strip(res, u, coalition, secrets.selfSeed);
      expect(chi2Bytes(residual), `${u} against ${coalition} and the host`).toBeLessThan(CHI2_LIMIT);
      // every neighbour of u colluding (beyond the threshold and the graph's assumption) does recover it
      expect([...strip(res, u, nbrs, secrets.selfSeed)], `${u} against all its neighbours`).toEqual([...inputs.get(u)!]);
    }
  });
});
