import { describe, expect, it } from 'vitest';
import { formatBytes, shortId } from './format';
import { niceTicks } from '../charts/niceTicks';

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [999, '999 B'],
    [1000, '1.00 kB'],
    [1_250_000, '1.25 MB'],
    [6_653_480, '6.65 MB'],
    [123_400_000_000, '123 GB'],
  ])('%d → %s', (n, s) => expect(formatBytes(n)).toBe(s));
});

describe('shortId', () => {
  it('keeps short ids and shortens long ones', () => {
    expect(shortId('abc')).toBe('abc');
    expect(shortId('12D3KooWAbcdefghijklmnop', 4)).toBe('12D3…mnop');
  });
});

describe('niceTicks', () => {
  it.each([
    { lo: 0, hi: 1, n: 4, want: [0, 0.2, 0.4, 0.6, 0.8, 1] },
    { lo: 0.31, hi: 2.26, n: 4, want: [0, 0.5, 1, 1.5, 2, 2.5] },
    { lo: 1, hi: 1, n: 4, want: [0.4, 0.6, 0.8, 1, 1.2, 1.4, 1.6] },
  ])('[$lo, $hi] → round steps covering the range', ({ lo, hi, n, want }) => {
    expect(niceTicks(lo, hi, n)).toEqual(want);
  });
});
