import { describe, expect, it } from 'vitest';
import { measureSecAgg } from './measureSecAgg.js';

// The benchmark's own arithmetic on a round small enough for a unit test: the secure sum is
// exact, the bytes add up to what the messages carry, and the baseline is the float32 model.

describe('measureSecAgg', () => {
  it('measures an exact round and counts the masked vector, keys, shares and reveals on top of the plain upload', async () => {
    const m = await measureSecAgg({ clients: 6, params: 50, dropFraction: 0, seed: 3 });
    expect(m.exact).toBe(true);
    expect(m.neighbours).toBe(5);
    expect(m.threshold).toBe(3);
    expect(m.plain.sentBytesPerClient).toBe(200);
    // advert (id + 96) + 5 sealed pairs (id + 83) + masked 200 + 5 reveals (id + 1 + 33), ids of 12 bytes
    expect(m.secure.sentBytesPerClient).toBe(12 + 96 + 5 * (12 + 83) + 200 + 5 * (12 + 1 + 33));
    expect(m.ratioSent).toBeCloseTo(m.secure.sentBytesPerClient / 200, 12);
    expect(m.maxAbsError).toBeLessThanOrEqual(6 / (2 * 2 ** 28));
  });

  it('stays exact with 30% dropping out before masking', async () => {
    const m = await measureSecAgg({ clients: 10, params: 20, dropFraction: 0.3, dropPoint: 'beforeMask', seed: 4 });
    expect(m.dropped).toBe(3);
    expect(m.exact).toBe(true);
  });
});
