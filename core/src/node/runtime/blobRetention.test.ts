import { describe, expect, it } from 'vitest';
import { BlobRetention } from './blobRetention.js';

describe('BlobRetention', () => {
  it('expires a blob only once every job that used it is keepRounds past it, never one kept', () => {
    const r = new BlobRetention(2);
    r.note('g1', 'J', 1);
    r.note('u1', 'J', 1);
    r.note('shared', 'J', 1);
    r.note('shared', 'J#0', 3);
    r.note('final', 'J', 1);
    const rounds: Record<string, number> = { J: 3, 'J#0': 3 };
    const roundOf = (job: string) => rounds[job] ?? 0;
    expect(r.expire(roundOf, new Set(['final'])).sort()).toEqual(['g1', 'u1']);
    expect(r.holds('shared', roundOf)).toBe(true);
    rounds['J#0'] = 5;
    expect(r.expire(roundOf, new Set(['final']))).toEqual(['shared']);
    expect(r.expire(roundOf, new Set(['final']), true)).toEqual([]);
    expect(r.size).toBe(1);
  });

  it('a blob used again in a later round lives on', () => {
    const r = new BlobRetention(1);
    r.note('g', 'J', 1);
    r.note('g', 'J', 4);
    expect(r.expire(() => 4, new Set())).toEqual([]);
    expect(r.expire(() => 5, new Set())).toEqual(['g']);
  });
});
