import { describe, expect, it } from 'vitest';
import { Rng } from '../../util/rng.js';
import { seededSecretBytes } from '../ctx.js';
import { noiseKeyPair, openNoiseKey, roundNoiseSeed, sealNoiseKey } from './noiseKey.js';

// §6.14: the noise key reaches exactly the worker it was sealed to, and each round's seed is
// bound to the job, the round and the inputs.

const draw = seededSecretBytes(Rng.fromSeed(7));
const host = noiseKeyPair(draw(32));
const w1 = noiseKeyPair(draw(32));
const w2 = noiseKeyPair(draw(32));
const noiseKey = 'a5'.repeat(32);

describe('noise key (§6.14)', () => {
  it('opens for the worker it was sealed to, for that job, and for nobody else', () => {
    const sealed = sealNoiseKey(host.secretKey, w1.publicKey, 'J#0', 'w1', noiseKey);
    expect(sealed).toMatch(/^[0-9a-f]{96}$/);
    expect(openNoiseKey(w1.secretKey, host.publicKey, 'J#0', 'w1', sealed)).toBe(noiseKey);
    const cases: [string, string | null][] = [
      ['another worker’s secret key', openNoiseKey(w2.secretKey, host.publicKey, 'J#0', 'w1', sealed)],
      ['another job', openNoiseKey(w1.secretKey, host.publicKey, 'J#1', 'w1', sealed)],
      ['another worker id', openNoiseKey(w1.secretKey, host.publicKey, 'J#0', 'w2', sealed)],
      ['another host key', openNoiseKey(w1.secretKey, w2.publicKey, 'J#0', 'w1', sealed)],
      ['one flipped bit', openNoiseKey(w1.secretKey, host.publicKey, 'J#0', 'w1', (parseInt(sealed[0]!, 16) ^ 1).toString(16) + sealed.slice(1))],
    ];
    for (const [name, opened] of cases) expect(opened, name).toBeNull();
  });

  it('a seal to a public key of low order is refused', () => {
    expect(() => sealNoiseKey(host.secretKey, '00'.repeat(32), 'J#0', 'w1', noiseKey)).toThrow();
  });

  it('round seeds differ by job, round and inputs, and repeat for the same ones', () => {
    const seeds = [
      roundNoiseSeed(noiseKey, 'J#0', 1, 'c'.repeat(64)),
      roundNoiseSeed(noiseKey, 'J#0', 2, 'c'.repeat(64)),
      roundNoiseSeed(noiseKey, 'J#1', 1, 'c'.repeat(64)),
      roundNoiseSeed(noiseKey, 'J#0', 1, 'd'.repeat(64)),
      roundNoiseSeed('b6'.repeat(32), 'J#0', 1, 'c'.repeat(64)),
    ];
    expect(new Set(seeds).size).toBe(seeds.length);
    expect(roundNoiseSeed(noiseKey, 'J#0', 1, 'c'.repeat(64))).toBe(seeds[0]);
  });
});
