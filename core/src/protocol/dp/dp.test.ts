import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { calibrateNoiseMultiplier, DEFAULT_RDP_ORDERS, epsilonFromRdp, RdpAccountant, rdpSampledGaussian } from './rdp.js';
import { logErfc, logGamma } from './special.js';

// The accountant's own properties. The figures against dp-accounting itself
// are in test/protocol/rdpAccountant.test.ts (live, when Python has the package); the ε values
// pinned here were printed by dp-accounting 0.6.0 for the same settings.

describe('special functions', () => {
  // scipy.special.gammaln and dp-accounting's _log_erfc (scipy 1.17.1)
  it.each([
    [0.1, 2.252712651734206],
    [0.5, 0.5723649429247],
    [3.7, 1.428072326665388],
    [10.5, 13.940625219403763],
    [1024.5, 6074.746026776943],
    [-0.5, 1.2655121234846454],
    [-7.3, -7.779101629826853],
  ])('logGamma(%f) = scipy gammaln to 1e-13', (x, want) => {
    expect(Math.abs(logGamma(x) - want)).toBeLessThan(1e-13 * Math.max(1, Math.abs(want)));
  });
  it.each([
    [-5, 0.6931471805591766],
    [-1.5, 0.6760545027339605],
    [0.3, -0.39843005144008525],
    [1.99, -5.320852015139978],
    [2.01, -5.409215264190246],
    [7, -51.52823109371016],
    [40, -1604.2615566532743],
  ])('logErfc(%f) = dp-accounting _log_erfc to 1e-13', (x, want) => {
    expect(Math.abs(logErfc(x) - want)).toBeLessThan(1e-13 * Math.max(1, Math.abs(want)));
  });
  it('logGamma is infinite at the poles', () => {
    expect([0, -1, -5].map(logGamma)).toEqual([Infinity, Infinity, Infinity]);
  });
});

describe('RDP accountant', () => {
  // ε printed by dp-accounting 0.6.0's RdpAccountant (default orders) for these settings
  it.each([
    [0.01, 1.1, 1000, 1e-5, 1.7117701662429012],
    [0.1, 1.0, 100, 1e-5, 7.903850223578231],
    [0.05, 0.8, 500, 1e-5, 13.406213146089476],
    [1, 2.0, 50, 1e-5, 22.019852327713252],
    [0.3, 5.0, 200, 1e-6, 4.483992083737345],
    [0.001, 0.6, 10000, 1e-5, 3.321954943128561],
    [0.2, 1.3, 1, 1e-5, 1.8114594717121313],
  ])('q=%f σ=%f, %i steps, δ=%f: ε = %f as dp-accounting 0.6.0 gives', (q, sigma, steps, delta, want) => {
    expect(Math.abs(new RdpAccountant().compose(q, sigma, steps).epsilon(delta) - want) / want).toBeLessThan(1e-9);
  });

  it('ε grows with rounds and sampling rate, shrinks with noise and δ', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.001, max: 0.5, noNaN: true }), fc.double({ min: 0.6, max: 4, noNaN: true }), fc.integer({ min: 1, max: 200 }), (q, sigma, steps) => {
        const eps = (qq: number, s: number, n: number, d = 1e-5): number => new RdpAccountant().compose(qq, s, n).epsilon(d);
        const base = eps(q, sigma, steps);
        expect(eps(q, sigma, steps + 10), 'more rounds').toBeGreaterThanOrEqual(base);
        expect(eps(Math.min(1, q * 1.5), sigma, steps), 'higher rate').toBeGreaterThanOrEqual(base);
        expect(eps(q, sigma * 1.5, steps), 'more noise').toBeLessThanOrEqual(base);
        expect(eps(q, sigma, steps, 1e-3), 'larger δ').toBeLessThanOrEqual(base);
      }),
      { numRuns: 25, seed: 9 },
    );
  });

  it('composes round by round to the same account as all at once, and restores from its state', () => {
    const stepwise = new RdpAccountant();
    for (let r = 0; r < 20; r++) stepwise.compose(0.1, 1.2);
    const once = new RdpAccountant().compose(0.1, 1.2, 20);
    expect(Math.abs(stepwise.epsilon(1e-5) - once.epsilon(1e-5))).toBeLessThan(1e-12);
    expect(new RdpAccountant(DEFAULT_RDP_ORDERS, stepwise.state()).epsilon(1e-5)).toBe(stepwise.epsilon(1e-5));
  });

  it('calibrates the noise multiplier that spends a target ε: 2 and 8 at δ = 1e-5 over 100 rounds at rate 0.1', () => {
    for (const target of [2, 8]) {
      const sigma = calibrateNoiseMultiplier(target, 1e-5, 0.1, 100);
      const eps = new RdpAccountant().compose(0.1, sigma, 100).epsilon(1e-5);
      expect(eps, `ε at σ=${sigma}`).toBeLessThanOrEqual(target);
      expect(new RdpAccountant().compose(0.1, sigma * 0.999, 100).epsilon(1e-5), `ε just below σ=${sigma}`).toBeGreaterThan(target);
    }
    expect(() => calibrateNoiseMultiplier(0, 1e-5, 0.1, 10)).toThrow(/target ε/);
  });

  it('spends nothing without sampling, everything without noise, and refuses bad input', () => {
    expect(new RdpAccountant().compose(0, 1, 100).epsilon(1e-5)).toBe(0);
    expect(new RdpAccountant().compose(0.1, 0, 1).epsilon(1e-5)).toBe(Infinity);
    expect(() => rdpSampledGaussian(1.5, 1)).toThrow(/sampling rate/);
    expect(() => rdpSampledGaussian(0.5, -1)).toThrow(/noise multiplier/);
    expect(() => epsilonFromRdp([2], [1], -1)).toThrow(/delta/);
    expect(epsilonFromRdp([2, 3], [1, 1], 0).epsilon).toBe(Infinity);
  });
});
