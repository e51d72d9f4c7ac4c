import { describe, expect, it } from 'vitest';
import { Rng, hash32 } from './rng.js';

describe('Rng', () => {
  it('is a pure function of its seed', () => {
    const a = Rng.fromSeed(42);
    const b = Rng.fromSeed(42);
    const xs = Array.from({ length: 100 }, () => a.float());
    const ys = Array.from({ length: 100 }, () => b.float());
    expect(xs).toEqual(ys);
    expect(Rng.fromSeed(43).float()).not.toBe(xs[0]);
  });

  it('restores from its state mid-stream', () => {
    const a = Rng.fromSeed(7);
    a.float();
    const b = Rng.fromState(a.state());
    expect(b.float()).toBe(a.float());
  });

  it('forks independent streams that do not consume the parent', () => {
    const a = Rng.fromSeed(1);
    const before = a.state();
    const f1 = a.fork('x');
    const f2 = a.fork('y');
    expect(a.state()).toEqual(before);
    expect(f1.float()).not.toBe(f2.float());
    expect(Rng.fromSeed(1).fork('x').float()).toBe(Rng.fromSeed(1).fork('x').float());
  });

  it.each([
    { n: 1 },
    { n: 2 },
    { n: 10 },
    { n: 1000 },
  ])('int($n) stays in [0, n)', ({ n }) => {
    const r = Rng.fromSeed(n);
    for (let i = 0; i < 500; i++) {
      const v = r.int(n);
      expect(v >= 0 && v < n && Number.isInteger(v), `draw ${i} gave ${v}`).toBe(true);
    }
  });

  it('rejects an empty range', () => {
    expect(() => Rng.fromSeed(0).int(0)).toThrow(RangeError);
  });

  it.each([{ shape: 0.3 }, { shape: 1 }, { shape: 5 }])('gamma($shape) has the right mean', ({ shape }) => {
    const r = Rng.fromSeed(3);
    let sum = 0;
    const n = 20_000;
    for (let i = 0; i < n; i++) sum += r.gamma(shape);
    expect(Math.abs(sum / n - shape) / shape).toBeLessThan(0.05);
  });

  it('dirichlet draws sum to 1 and small alpha is more skewed', () => {
    const r = Rng.fromSeed(5);
    const maxShare = (alpha: number) => {
      let acc = 0;
      for (let i = 0; i < 200; i++) {
        const p = r.dirichlet(alpha, 10);
        expect(Math.abs(p.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-9);
        acc += Math.max(...p);
      }
      return acc / 200;
    };
    expect(maxShare(0.1)).toBeGreaterThan(maxShare(10) + 0.3);
  });

  it('shuffle is a permutation and sample gives distinct indices', () => {
    const r = Rng.fromSeed(9);
    const a = r.shuffle(Array.from({ length: 50 }, (_, i) => i));
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    const s = r.sample(20, 7);
    expect(new Set(s).size).toBe(7);
    expect(s.every((i) => i >= 0 && i < 20)).toBe(true);
  });
});

describe('hash32', () => {
  it('is stable', () => {
    expect(hash32('canopy')).toBe(hash32('canopy'));
    expect(hash32('canopy')).not.toBe(hash32('canopz'));
  });
});
