import { describe, expect, it } from 'vitest';
import { benchAggregate } from './bench.js';

describe('benchAggregate', () => {
  it.each(['wasm', 'js'] as const)('reports consistent figures on %s', (backend) => {
    const r = benchAggregate({ clients: 6, params: 20_000, repeats: 2, backend });
    expect(r).toMatchObject({ clients: 6, params: 20_000, backend });
    for (const x of [r.gbPerSec, r.memcpyGbPerSec, r.ratio]) expect(Number.isFinite(x) && x > 0).toBe(true);
    expect(r.ratio).toBeCloseTo(r.gbPerSec / r.memcpyGbPerSec, 12);
  });

  it('refuses nonsense sizes', () => {
    expect(() => benchAggregate({ clients: 0, params: 10 })).toThrow(RangeError);
    expect(() => benchAggregate({ clients: 2, params: 1.5 })).toThrow(RangeError);
  });
});
